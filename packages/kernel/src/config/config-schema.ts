import { CONFIG_API_VERSION } from './config-types.js';

/**
 * JSON Schema of the config file as written by users (before defaults and env expansion).
 * This is the public contract: names here are kept; new optional fields may be added.
 * `x-fix` holds the hint shown when a value fails the schema.
 */
const nameField = {
  type: 'string',
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
  maxLength: 63,
  'x-fix': 'use lowercase letters, digits and "-" (a DNS label), e.g. "origin"',
} as const;

const adapterRefProperties = {
  use: { type: 'string', minLength: 1, 'x-fix': 'name an npm package (e.g. "@gitops-reverser/bus-memory") or a path starting with ./' },
  with: { type: 'object', 'x-fix': 'adapter options go in a mapping under `with:`' },
  name: { ...nameField, 'x-fix': 'an instance name is a DNS label, e.g. "prod-informer"' },
} as const;

const adapterRef = { type: 'object', additionalProperties: false, required: ['use'], properties: adapterRefProperties } as const;

/** `bus:` / `sink:`: `use` is required once the key is written, so the fix names the package that leaving the key out means. */
const slotRef = (slot: 'bus' | 'sink', defaultPackage: string) =>
  ({
    ...adapterRef,
    properties: {
      ...adapterRefProperties,
      use: { ...adapterRefProperties.use, 'x-fix': `name the ${slot}'s npm package or a path starting with ./, e.g. use: "${defaultPackage}" (the default when ${slot}: is left out)` },
    },
  }) as const;

const sourceRef = {
  type: 'object',
  additionalProperties: false,
  required: ['use', 'cluster'],
  properties: {
    ...adapterRefProperties,
    cluster: { ...nameField, 'x-fix': 'give the cluster this source observes a short DNS-label id, e.g. "dev"; it is part of every event identity' },
  },
} as const;

const stringList = { type: 'array', items: { type: 'string' } } as const;

const labelSelector = {
  type: 'object',
  additionalProperties: false,
  properties: {
    matchLabels: { type: 'object', additionalProperties: { type: 'string' }, 'x-fix': 'a mapping of label keys to values, e.g. { app: web }' },
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'operator'],
        properties: {
          key: { type: 'string', minLength: 1 },
          operator: { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
          values: stringList,
        },
      },
      'x-fix': 'a list of { key, operator: In|NotIn|Exists|DoesNotExist, values }',
    },
  },
  'x-fix': 'a Kubernetes label selector: { matchLabels: { app: web } } and/or { matchExpressions: [ { key: tier, operator: In, values: [front] } ] }',
} as const;

const credentialMode = { enum: ['refuse', 'redact', 'encrypt', 'warn', 'off'], 'x-fix': 'one of refuse, redact, encrypt, warn, off' } as const;

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'targets', 'rules'],
  properties: {
    apiVersion: { const: CONFIG_API_VERSION, 'x-fix': `write apiVersion: ${CONFIG_API_VERSION} as the first line` },
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
        format: { enum: ['auto', 'json', 'text'], 'x-fix': 'auto (readable lines on a terminal, JSON otherwise), json or text' },
      },
    },
    sources: { type: 'array', items: sourceRef, 'x-fix': 'list at least one source, e.g. - { use: "@gitops-reverser/source-informer", cluster: dev }' },
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
        defaults: {
          anyOf: [
            { type: 'boolean' },
            {
              type: 'object',
              additionalProperties: false,
              properties: {
                status: { type: 'boolean' },
                serverOwnedMetadata: { type: 'boolean' },
                annotations: { type: 'boolean' },
                labels: { type: 'boolean' },
                serviceAllocations: { type: 'boolean' },
              },
            },
          ],
          'x-fix': 'false (no built-in list applies), or a mapping switching lists: { status, serverOwnedMetadata, annotations, labels, serviceAllocations }',
        },
        keepAnnotations: stringList,
        keepLabels: stringList,
        keepMetadata: stringList,
      },
    },
    credentials: {
      type: 'object',
      additionalProperties: false,
      properties: {
        mode: credentialMode,
        redactionKeyFile: { type: 'string', minLength: 1, 'x-fix': 'a file with a random secret of 32+ characters that every replica shares, e.g. from openssl rand -hex 32' },
        ignore: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            properties: { rules: stringList, kinds: stringList, namespaces: stringList, names: stringList, paths: stringList },
          },
          'x-fix': 'entries like { rules: [jwt], kinds: [ConfigMap], namespaces: [demo], names: [oidc], paths: [data.id-token] }',
        },
      },
    },
    bus: slotRef('bus', '@gitops-reverser/bus-memory'),
    sink: slotRef('sink', '@gitops-reverser/sink-git'),
    targets: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: nameField,
          with: { type: 'object', 'x-fix': "the sink's options for this target go in a mapping under `with:` (see the sink's README)" },
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
          clusters: stringList,
          namespaces: stringList,
          apiGroups: stringList,
          apiVersions: stringList,
          resources: { ...stringList, minItems: 1, 'x-fix': 'list plural resource names, e.g. [configmaps], or ["*"]' },
          operations: { type: 'array', items: { enum: ['CREATE', 'UPDATE', 'DELETE', '*'] } },
          plaintextSecrets: { type: 'boolean', 'x-fix': 'true lets Secrets this rule selects be written unencrypted when no encoder is configured' },
          objectSelector: labelSelector,
          namespaceSelector: labelSelector,
          unselected: { enum: ['delete', 'keep'], 'x-fix': 'delete (remove the file of an object that stops matching) or keep' },
          credentials: credentialMode,
        },
      },
    },
    attribution: {
      type: 'object',
      additionalProperties: false,
      properties: {
        waitMs: { type: 'integer', minimum: 0, maximum: 600000, 'x-fix': 'milliseconds a live change waits for its attribution fact, e.g. 1500' },
        contentKeyFile: { type: 'string', minLength: 1, 'x-fix': 'a file with a random secret of 32+ characters that every replica shares (a mounted Secret), e.g. from openssl rand -hex 32' },
        authors: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name'],
            properties: {
              username: { type: 'string', minLength: 1, 'x-fix': 'a user or service account name, e.g. system:serviceaccount:flux-system:kustomize-controller' },
              fieldManager: { type: 'string', minLength: 1, 'x-fix': 'a field manager name, e.g. kustomize-controller' },
              name: { type: 'string', minLength: 1 },
              email: { type: 'string', minLength: 3 },
            },
            'x-fix': 'each entry maps a username or a fieldManager to an author: { fieldManager: kustomize-controller, name: flux, email: flux@example.com }',
          },
        },
      },
    },
    watchdog: {
      type: 'object',
      additionalProperties: false,
      properties: {
        applyWarnSeconds: { type: 'number', exclusiveMinimum: 0, 'x-fix': 'seconds a sink call may run before it is logged and shown in /readyz, e.g. 60' },
        applyTimeoutSeconds: { type: 'number', minimum: 0, 'x-fix': 'seconds after which an apply() counts as retry (0: never), e.g. 300' },
        refusedAnswersSeconds: { type: 'number', exclusiveMinimum: 0, 'x-fix': 'seconds of contract-breaking sink answers before /readyz says degraded, e.g. 60' },
      },
    },
    startup: {
      type: 'object',
      additionalProperties: false,
      properties: { timeoutSeconds: { type: 'number', exclusiveMinimum: 0 } },
    },
    shutdown: {
      type: 'object',
      additionalProperties: false,
      properties: { timeoutSeconds: { type: 'number', exclusiveMinimum: 0 } },
    },
  },
} as const;
