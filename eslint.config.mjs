// ESLint flat config: typescript-eslint's recommended type-checked rules over every TypeScript
// source (lib, lambda, bin, harness, scripts, bench, test), typed through the TypeScript project service
// (tsconfig.json). Formatting is Prettier's job (`npm run lint` runs both).
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Node's globals, for the few plain JavaScript files (build scripts and tool configs). */
const nodeGlobals = {
  console: 'readonly',
  process: 'readonly',
  require: 'readonly',
  module: 'writable',
  __dirname: 'readonly',
};

export default defineConfig(
  {
    ignores: ['node_modules/', 'dist/', 'assets/', 'cdk.out/', 'coverage/'],
  },
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    rules: {
      // `const { Dropped: _dropped, ...rest } = props` is how a test removes a key.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // The rules and the contract are bundled into the handler and read by the construct and the
    // harness alike: an import would pull aws-cdk-lib into the handler, or couple the sides through
    // something else than these names. They stay import-free.
    files: ['lib/rules.ts', 'lib/contract.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...[
          'ImportDeclaration',
          'TSImportEqualsDeclaration',
          'ImportExpression',
          'ExportAllDeclaration',
          'ExportNamedDeclaration[source]',
        ].map((selector) => ({
          selector,
          message: 'lib/rules.ts and lib/contract.ts must stay free of imports (they are bundled into the handler).',
        })),
        { selector: "CallExpression[callee.name='require']", message: 'lib/rules.ts and lib/contract.ts must stay free of imports.' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: nodeGlobals },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
);
