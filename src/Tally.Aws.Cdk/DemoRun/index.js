// Tally's deploy-time demo run (Custom::TallyDemoRun, behind CDK's custom resource provider framework).
//
// When the orchestration stack is created, starts the state machine once for the demo data's hour and waits for that
// execution to end: the resource, and so the deployment, fails with the run's status, error and cause unless it
// succeeded. Updates and deletes do nothing (the run belongs to the stack's creation, as the seed's does).
//
// Properties: StateMachineArn, ExecutionName, Input (the state machine's JSON input).
// Runs on Lambda's Node.js 22 runtime, whose AWS SDK for JavaScript v3 it uses; tests pass their own client.
'use strict';

const POLL_MS = 5000;
// Give up this long before the function's own timeout, so that the failure is reported rather than cut off.
const MARGIN_MS = 60000;

/**
 * The onEvent handler for a Step Functions client (send(command) as the SDK's), its command classes and a clock.
 * @param {{client: {send: Function}, StartExecutionCommand: Function, DescribeExecutionCommand: Function,
 *          sleep?: (ms: number) => Promise<void>, pollMs?: number}} deps
 */
function createHandler(deps) {
  const sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  const pollMs = deps.pollMs ?? POLL_MS;
  return async function onEvent(event, context) {
    if (event.RequestType !== 'Create') return { PhysicalResourceId: event.PhysicalResourceId };
    const { StateMachineArn: stateMachineArn, ExecutionName: name, Input: input } = event.ResourceProperties;
    const executionArn = await start(deps, stateMachineArn, name, input);
    for (;;) {
      const execution = await deps.client.send(new deps.DescribeExecutionCommand({ executionArn }));
      if (execution.status === 'SUCCEEDED') {
        return { PhysicalResourceId: executionArn, Data: { Status: execution.status } };
      }
      if (execution.status !== 'RUNNING' && execution.status !== 'PENDING_REDRIVE') {
        const why = [execution.error, execution.cause].filter(Boolean).join(': ') || 'no error given';
        throw new Error(`The demo run ${name} (${executionArn}) ended ${execution.status}: ${why}`);
      }
      if (context && context.getRemainingTimeInMillis() < MARGIN_MS + pollMs) {
        throw new Error(`The demo run ${name} (${executionArn}) was still running when the deployment stopped waiting for it.`);
      }
      await sleep(pollMs);
    }
  };
}

/** Starts the execution; one of that name already started (a retried create) is the one to wait for. */
async function start(deps, stateMachineArn, name, input) {
  try {
    const started = await deps.client.send(new deps.StartExecutionCommand({ stateMachineArn, name, input }));
    return started.executionArn;
  } catch (e) {
    if (e.name !== 'ExecutionAlreadyExists') throw e;
    // arn:aws:states:region:account:stateMachine:NAME -> arn:aws:states:region:account:execution:NAME:EXECUTION
    return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }
}

let handler;
exports.createHandler = createHandler;
exports.handler = async (event, context) => {
  if (!handler) {
    const sfn = require('@aws-sdk/client-sfn');
    handler = createHandler({
      client: new sfn.SFNClient({}),
      StartExecutionCommand: sfn.StartExecutionCommand,
      DescribeExecutionCommand: sfn.DescribeExecutionCommand,
    });
  }
  return handler(event, context);
};
