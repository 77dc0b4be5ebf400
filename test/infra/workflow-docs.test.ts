import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mermaid, render, WORKFLOWS_FILE, workflows } from '../../scripts/workflow-docs.ts';

describe('docs/workflows.md', () => {
  it('is generated from the synthesized state machines (run `npm run docs:workflows`)', () => {
    const list = workflows();
    expect(list.map((workflow) => [workflow.name, workflow.type])).toContainEqual([
      'omnichannel-return',
      'STANDARD',
    ]);
    expect(readFileSync(WORKFLOWS_FILE, 'utf8')).toBe(render(list));
  }, 120_000);

  it('draws every state, its transitions, choices and catches', () => {
    const diagram = mermaid({
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Resource: 'arn', Next: 'B', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'F' }] },
        B: { Type: 'Choice', Choices: [{ Variable: '$.ok', BooleanEquals: true, Next: 'S' }], Default: 'F' },
        S: { Type: 'Succeed' },
        F: { Type: 'Fail' },
      },
    });
    expect(diagram).toContain('start((start)) --> A');
    expect(diagram).toContain('A --> B');
    expect(diagram).toContain('A -.->|"States.ALL"| F');
    expect(diagram).toContain('B -->|"ok = true"| S');
    expect(diagram).toContain('B -->|otherwise| F');
  });
});
