// A Stryker ignorer for `npm run test:mutation`: the handler's log calls are not mutated. Their
// text and fields are for people reading CloudWatch, not behaviour a test should pin.
import { PluginKind, declareValuePlugin } from '@stryker-mutator/api/plugin';

/** `logger.<method>(...);` as a statement of its own. */
function isLoggerCall(path) {
  if (!path.isExpressionStatement()) return false;
  const call = path.node.expression;
  return (
    call.type === 'CallExpression' &&
    call.callee.type === 'MemberExpression' &&
    call.callee.object.type === 'Identifier' &&
    call.callee.object.name === 'logger'
  );
}

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, 'logger-calls', {
    shouldIgnore(path) {
      return isLoggerCall(path) ? 'A log call: its text is for people, not behaviour.' : undefined;
    },
  }),
];
