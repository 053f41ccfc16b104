// Lint runs inside `npm test`. The rules that matter most here: no `any`, no `.only`
// left in a test, and the core never imports a technology adapter (ports and adapters,
// see docs/style.md point 2).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const adapterImports = {
  paths: [
    { name: '@grpc/grpc-js', message: 'The core talks to peers through the PeerTransport port.' },
    { name: '@grpc/proto-loader', message: 'The core talks to peers through the PeerTransport port.' },
    { name: '@kubernetes/client-node', message: 'The core learns members through a discovery adapter.' },
    { name: 'node:net', message: 'The core never opens sockets.' },
    { name: 'node:http', message: 'The core never opens sockets.' },
    { name: 'prom-client', message: 'The core reports to a metrics port it defines; the Prometheus adapters live in src/metrics.' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', '.scratch/**', 'src/protocol/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', clearImmediate: 'readonly', queueMicrotask: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'describe', property: 'only', message: '.only must not be committed.' },
        { object: 'it', property: 'only', message: '.only must not be committed.' },
        { object: 'test', property: 'only', message: '.only must not be committed.' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "Property[key.name='only'][value.value=true]", message: '{ only: true } must not be committed.' },
      ],
    },
  },
  {
    files: ['src/storage/**/*.ts', 'src/ring/**/*.ts', 'src/replica/**/*.ts', 'src/repair/**/*.ts', 'src/streaming/**/*.ts', 'src/coordinator/**/*.ts', 'src/handoff/**/*.ts', 'src/membership/**/*.ts', 'src/clock/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', adapterImports] },
  },
);
