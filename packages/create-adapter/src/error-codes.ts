/** The generator's error codes; each has a row in docs/errors.md. */
export const CreateAdapterErrorCodes = {
  /** A flag or argument the command does not know, or one missing without a terminal to ask on. */
  USAGE: 'GR_ERR_CREATE_USAGE',
  /** The package name is not one npm accepts, or cannot name error codes. */
  NAME: 'GR_ERR_CREATE_NAME',
  /** The folder to write into exists and is not empty. */
  DIRECTORY: 'GR_ERR_CREATE_DIRECTORY',
} as const;
