/**
 * `npm run docs:workflows`: writes docs/workflows.md from the state machines of the synthesized dev
 * template — one section per `AWS::StepFunctions::StateMachine` (every `HubStateMachine`), with a Mermaid
 * diagram drawn from its definition and the workflow's own text from `docs/workflows-<name>.md` (why its
 * type, cost per execution). `--check` exits 1 when the committed file is out of date.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '#infra/app.ts';

export const DOCS_DIR = fileURLToPath(new URL('../docs/', import.meta.url));
export const WORKFLOWS_FILE = `${DOCS_DIR}workflows.md`;

interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Default?: string;
  readonly Choices?: readonly (Record<string, unknown> & { Next: string })[];
  readonly Catch?: readonly { ErrorEquals: string[]; Next: string }[];
  readonly Retry?: readonly { ErrorEquals: string[]; MaxAttempts?: number }[];
  readonly Resource?: string;
  readonly TimeoutSeconds?: number;
}
interface Asl {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
  readonly TimeoutSeconds?: number;
  readonly Comment?: string;
}
export interface Workflow {
  readonly name: string;
  readonly type: string;
  readonly definition: Asl;
}

/** `OmnichannelReturn` → `omnichannel-return`. */
const kebab = (id: string) => id.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** The state machines of the dev template, with their definitions (ARNs in them as `arn`). */
export function workflows(): Workflow[] {
  const app = new App({ context: { env: 'dev', 'aws:cdk:bundling-stacks': [] } });
  const { stack } = buildApp(app);
  const resources = Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine');
  return Object.entries(resources)
    .map(([logicalId, resource]) => {
      const properties = resource.Properties as { DefinitionString: unknown; StateMachineType?: string };
      const join = (properties.DefinitionString as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
      const text = join
        ? join[1].map((part) => (typeof part === 'string' ? part : 'arn')).join(join[0])
        : String(properties.DefinitionString);
      // The logical id names the workflow: `OmnichannelReturnWorkflowStateMachine56C133E3` → omnichannel-return.
      const id = logicalId
        .replace(/[0-9A-F]{8}$/, '')
        .replace(/StateMachine$/, '')
        .replace(/Workflow$/, '');
      return {
        name: kebab(id || logicalId),
        type: properties.StateMachineType ?? 'STANDARD',
        definition: JSON.parse(text) as Asl,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

const nodeId = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_');
const label = (text: string) => text.replace(/"/g, "'");

/** A Mermaid flowchart of a definition: tasks as boxes, choices as diamonds, catches dashed. */
export function mermaid(definition: Asl): string {
  const lines = ['flowchart TD', `  start((start)) --> ${nodeId(definition.StartAt)}`];
  for (const [name, state] of Object.entries(definition.States)) {
    const id = nodeId(name);
    const integration = state.Resource?.match(/:states:::(.+)$/)?.[1];
    const retries = state.Retry?.reduce((sum, retry) => sum + (retry.MaxAttempts ?? 3), 0);
    const detail = [
      integration ? `${integration}` : state.Type === 'Task' ? 'lambda' : '',
      retries ? `retry ×${retries}` : '',
      state.TimeoutSeconds ? `timeout ${Math.round(state.TimeoutSeconds / 3600)} h` : '',
    ]
      .filter(Boolean)
      .join(', ');
    const text = label(detail ? `${name}<br/><small>${detail}</small>` : name);
    const shape =
      state.Type === 'Choice'
        ? `{"${text}"}`
        : state.Type === 'Fail'
          ? `[["${text} ✗"]]`
          : state.Type === 'Succeed'
            ? `(["${text} ✓"])`
            : `["${text}"]`;
    lines.push(`  ${id}${shape}`);
    if (state.Next) lines.push(`  ${id} --> ${nodeId(state.Next)}`);
    for (const choice of state.Choices ?? []) {
      const variable = String(choice.Variable ?? '').replace(/^\$\./, '');
      const value = Object.entries(choice).find(([key]) => /Equals|GreaterThan|LessThan|IsPresent/.test(key));
      lines.push(
        `  ${id} -->|"${label(`${variable} = ${JSON.stringify(value?.[1])}`)}"| ${nodeId(choice.Next)}`,
      );
    }
    if (state.Default) lines.push(`  ${id} -->|otherwise| ${nodeId(state.Default)}`);
    for (const caught of state.Catch ?? []) {
      lines.push(`  ${id} -.->|"${label(caught.ErrorEquals.join(', '))}"| ${nodeId(caught.Next)}`);
    }
  }
  return lines.join('\n');
}

/** The whole docs/workflows.md. */
export function render(list: readonly Workflow[] = workflows()): string {
  const sections = list.map((workflow) => {
    const textFile = `${DOCS_DIR}workflows-${workflow.name}.md`;
    const text = existsSync(textFile)
      ? readFileSync(textFile, 'utf8').trim()
      : `_No text yet: write it in \`docs/workflows-${workflow.name}.md\`._`;
    const states = Object.keys(workflow.definition.States).length;
    const timeout = workflow.definition.TimeoutSeconds
      ? `, execution timeout ${Math.round(workflow.definition.TimeoutSeconds / 86_400)} days`
      : '';
    return [
      `## ${workflow.name}`,
      '',
      `**${workflow.type}**, ${states} states${timeout}. ${workflow.definition.Comment ?? ''}`.trim(),
      '',
      '```mermaid',
      mermaid(workflow.definition),
      '```',
      '',
      text,
    ].join('\n');
  });
  return [
    '# Workflows',
    '',
    '<!-- Generated by `npm run docs:workflows` from the synthesized dev template; edit docs/workflows-<name>.md instead. -->',
    '',
    'The Step Functions state machines of the hub, drawn from their synthesized definitions (solid: next',
    "state or choice; dashed: a `Catch`). Each section ends with the workflow's own text: why its type, what",
    'an execution costs.',
    '',
    ...sections.flatMap((section) => [section, '']),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const content = render();
  if (process.argv.includes('--check')) {
    const current = existsSync(WORKFLOWS_FILE) ? readFileSync(WORKFLOWS_FILE, 'utf8') : '';
    if (current !== content) {
      console.error('docs/workflows.md is out of date: run npm run docs:workflows');
      process.exit(1);
    }
    console.log('docs/workflows.md is up to date');
  } else {
    writeFileSync(WORKFLOWS_FILE, content);
    console.log(`wrote ${WORKFLOWS_FILE}`);
  }
}
