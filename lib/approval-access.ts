import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { ArnPrincipal, CompositePrincipal, Effect, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface ApprovalAccessProps {
  /** The workflows whose approval tasks (task tokens) the approvers answer. */
  readonly stateMachines: readonly StateMachine[];
  /** IAM roles or users allowed to assume the approver role; nobody else holds the answer permissions. */
  readonly approverPrincipalArns: readonly string[];
  /** @default Duration.hours(1) */
  readonly maxSessionDuration?: Duration;
}

/**
 * The only holder of `states:SendTaskSuccess` / `SendTaskFailure` / `SendTaskHeartbeat` on the
 * workflows that wait for an approval: a role that exactly the configured approvers may assume, which can also read the
 * executions it is asked to approve.
 */
export class ApprovalAccess extends Construct {
  readonly role: Role;
  /** The workflows whose tasks the role answers. */
  readonly stateMachines: readonly StateMachine[];

  constructor(scope: Construct, id: string, props: ApprovalAccessProps) {
    super(scope, id);
    if (props.stateMachines.length === 0)
      throw new Error(`ApprovalAccess ${id}: at least one state machine is required`);
    if (props.approverPrincipalArns.length === 0)
      throw new Error(`ApprovalAccess ${id}: at least one approver principal is required`);
    for (const arn of props.approverPrincipalArns) {
      if (!/^arn:aws:iam::\d{12}:(role|user)\/.+$/.test(arn))
        throw new Error(`ApprovalAccess ${id}: '${arn}' is not an IAM role or user ARN`);
    }
    this.stateMachines = props.stateMachines;
    const principals = [...new Set(props.approverPrincipalArns)].map((arn) => new ArnPrincipal(arn));
    this.role = new Role(this, 'Role', {
      assumedBy: new CompositePrincipal(...principals),
      description: 'tradepulse-dr approvers: answer the approval tasks of the DR workflows of this region',
      maxSessionDuration: props.maxSessionDuration ?? Duration.hours(1),
    });
    this.role.addToPolicy(
      new PolicyStatement({
        sid: 'AnswerApproval',
        effect: Effect.ALLOW,
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
        // Evaluated against the state machine that issued the token (as CDK's grantTaskResponse scopes it).
        resources: props.stateMachines.map((sm) => sm.stateMachineArn),
      }),
    );
    const stack = Stack.of(this);
    this.role.addToPolicy(
      new PolicyStatement({
        sid: 'ReadExecutionsToApprove',
        effect: Effect.ALLOW,
        // RedriveExecution: the duty manager re-drives a failed run from its failed state (npm run dr -- redrive).
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:RedriveExecution'],
        resources: props.stateMachines.map((sm) =>
          stack.formatArn({
            service: 'states',
            resource: 'execution',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            resourceName: `${sm.stateMachineName}:*`,
          }),
        ),
      }),
    );
  }
}
