/**
 * JSON Schema of the config file as written by users (before defaults and env expansion).
 * This is the public contract: names here are kept; new optional fields may be added.
 * `x-fix` holds the hint shown when a value fails the schema.
 */
const adapterRef = {
  type: 'object',
  additionalProperties: false,
  required: ['use'],
  properties: {
    use: { type: 'string', minLength: 1, 'x-fix': 'name an npm package (e.g. "@gitops-reverser/bus-memory") or a path starting with ./' },
    with: { type: 'object', 'x-fix': 'adapter options go in a mapping under `with:`' },
  },
} as const;

const stringList = { type: 'array', items: { type: 'string' } } as const;
const nameField = {
  type: 'string',
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
  maxLength: 63,
  'x-fix': 'use lowercase letters, digits and "-" (a DNS label), e.g. "origin"',
} as const;

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['cluster', 'providers', 'targets', 'rules'],
  properties: {
    cluster: {
      type: 'object',
      additionalProperties: false,
      required: ['id'],
      properties: {
        id: { ...nameField, 'x-fix': 'give the cluster a short DNS-label id, e.g. "dev"; it is part of every event identity' },
        kubeconfig: { type: 'string', minLength: 1 },
        context: { type: 'string', minLength: 1 },
      },
    },
    server: {
      type: 'object',
      additionalProperties: false,
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535, 'x-fix': 'use a TCP port number (0 picks a free one)' },
        host: { type: 'string', minLength: 1 },
        enabled: { type: 'boolean' },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      properties: {
        level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
      },
    },
    sources: { type: 'array', items: adapterRef },
    normalizers: { type: 'array', items: adapterRef },
    sanitizer: {
      type: 'object',
      additionalProperties: false,
      properties: {
        removeFields: {
          type: 'array',
          items: {
            anyOf: [
              { type: 'string', minLength: 1 },
              {
                type: 'object',
                additionalProperties: false,
                required: ['path'],
                properties: { path: { type: 'string', minLength: 1 }, kinds: stringList },
              },
            ],
          },
        },
        removeAnnotations: stringList,
        removeLabels: stringList,
      },
    },
    bus: adapterRef,
    sink: adapterRef,
    providers: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'url'],
        properties: {
          name: nameField,
          url: { type: 'string', minLength: 1, 'x-fix': 'use a local path (./state-repo) or an http(s):// URL' },
          allowedBranches: { ...stringList, minItems: 1 },
          auth: {
            type: 'object',
            additionalProperties: false,
            properties: {
              username: { type: 'string' },
              password: { type: 'string' },
              token: { type: 'string' },
            },
          },
        },
      },
    },
    targets: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'provider', 'branch', 'path'],
        properties: {
          name: nameField,
          provider: { type: 'string', minLength: 1 },
          branch: { type: 'string', minLength: 1, pattern: '^(?!/)(?!.*//)(?!.*\\.\\.)(?!.*@\\{)[^\\s~^:?*\\[\\\\]+(?<!/)(?<!\\.lock)(?<!\\.)$', 'x-fix': 'use a valid git branch name, e.g. "main"' },
          path: { type: 'string', 'x-fix': 'use a relative folder inside the repository, e.g. "clusters/dev"' },
          prune: { enum: ['Never', 'OnEvent', 'Always'] },
          layout: { type: 'string', minLength: 1 },
        },
      },
    },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['target', 'resources'],
        properties: {
          target: { type: 'string', minLength: 1 },
          scope: { enum: ['Namespaced', 'Cluster'] },
          namespaces: stringList,
          apiGroups: stringList,
          apiVersions: stringList,
          resources: { ...stringList, minItems: 1, 'x-fix': 'list plural resource names, e.g. [configmaps], or ["*"]' },
          operations: { type: 'array', items: { enum: ['CREATE', 'UPDATE', 'DELETE', '*'] } },
        },
      },
    },
    shutdown: {
      type: 'object',
      additionalProperties: false,
      properties: { timeoutSeconds: { type: 'number', exclusiveMinimum: 0 } },
    },
  },
} as const;
