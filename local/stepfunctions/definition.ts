/**
 * Turns a state machine as the template declares it into something `aws-local-stepfunctions` runs the way
 * AWS would: the definition text is located and substituted, features the library cannot run are
 * reported, and the states are rewritten where the library's behaviour differs from AWS's or where the
 * local cloud must take control (time scaling, task timeouts, callbacks). The rewrite never changes what a
 * definition means; it only moves work from the library to the local service.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalResource } from '../template.ts';

/** A JSON object as parsed from a definition. */
export type JsonObject = { [key: string]: unknown };

/** The Resource the rewritten definition gives to former Wait states: the local service runs the wait. */
export const LOCAL_WAIT_RESOURCE = 'arn:aws:states:::local:wait';

/**
 * The largest task timeout the library can arm: it uses `setTimeout`, which overflows past 2^31-1 ms. AWS's
 * own default (99999999 s) is replaced by this (24.8 days).
 */
export const MAX_TIMER_SECONDS = 2_147_483;

/** The original (pre-rewrite) definition of a Task or Wait state, which the local service executes. */
export interface StateInfo {
  readonly name: string;
  /** The state's type in the template (Wait states become Tasks in the runnable definition). */
  readonly type: string;
  readonly definition: JsonObject;
}

/** A state machine ready to run, or the reason it cannot. */
export interface PreparedMachine {
  readonly arn: string;
  readonly name: string;
  readonly type: 'STANDARD' | 'EXPRESS';
  readonly roleArn: string;
  /** The definition as AWS would store it (after substitutions), for describing and validation. */
  readonly original: JsonObject | undefined;
  /** The definition handed to the library. */
  readonly runnable: JsonObject | undefined;
  /** Top-level TimeoutSeconds, enforced by the local service (so it can be scaled). */
  readonly timeoutSeconds: number | undefined;
  /** Every Task and Wait state by name, including those inside Map and Parallel states. */
  readonly states: ReadonlyMap<string, StateInfo>;
  /** Why the machine cannot run locally; executions of it fail with `States.Runtime` and this cause. */
  readonly unsupported: string | undefined;
  /** Things that run, but not exactly as on AWS. */
  readonly warnings: readonly string[];
}

export interface RewriteOptions {
  /** Multiplier applied to Retry `IntervalSeconds` / `MaxDelaySeconds`. */
  readonly retryIntervalScale: number;
  /** Multiplier applied to Task `TimeoutSeconds`. */
  readonly timeoutScale: number;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads the definition text of an `AWS::StepFunctions::StateMachine`: `DefinitionString` (CDK's usual
 * output, a resolved `Fn::Join`), `Definition` (an object), or `DefinitionS3Location` (CDK's
 * `DefinitionBody.fromFile`, read back from the staged asset in the cloud assembly), then applies
 * `DefinitionSubstitutions` as CloudFormation does (`${name}` anywhere in the text).
 */
export function definitionText(resource: LocalResource, assemblyDir: string): string {
  const properties = resource.properties;
  let text: string;
  if (typeof properties.DefinitionString === 'string') {
    text = properties.DefinitionString;
  } else if (isObject(properties.Definition)) {
    text = JSON.stringify(properties.Definition);
  } else if (isObject(properties.DefinitionS3Location)) {
    const key = String(properties.DefinitionS3Location.Key ?? '');
    const staged = join(assemblyDir, `asset.${key}`);
    if (!key || !existsSync(staged)) {
      throw new Error(`DefinitionS3Location ${key} is not a staged asset of the cloud assembly`);
    }
    text = readFileSync(staged, 'utf8');
  } else {
    throw new Error('the state machine has no DefinitionString, Definition or DefinitionS3Location');
  }
  const substitutions = properties.DefinitionSubstitutions;
  if (isObject(substitutions)) {
    text = text.replace(/\$\{([^}]+)\}/g, (match, name: string) => {
      if (!(name in substitutions)) return match;
      const value = substitutions[name];
      // Substitutions land inside JSON strings: escape them as JSON string content.
      return JSON.stringify(typeof value === 'string' ? value : JSON.stringify(value)).slice(1, -1);
    });
  }
  return text;
}

/** Fields that only exist in JSONata mode or with workflow variables; the library has neither. */
const UNSUPPORTED_STATE_FIELDS = ['Assign', 'Arguments', 'Output', 'Items', 'QueryLanguage'] as const;
/** Distributed Map features the library does not implement. */
const DISTRIBUTED_MAP_FIELDS = ['ItemReader', 'ResultWriter', 'ItemBatcher'] as const;

/** Walks every state of a (sub-)machine, with the states of Map and Parallel states, depth first. */
function forEachState(machine: JsonObject, visit: (name: string, state: JsonObject) => void): void {
  const states = machine.States;
  if (!isObject(states)) return;
  for (const [name, state] of Object.entries(states)) {
    if (!isObject(state)) continue;
    visit(name, state);
    const processor = state.ItemProcessor ?? state.Iterator;
    if (isObject(processor)) forEachState(processor, visit);
    if (Array.isArray(state.Branches)) {
      for (const branch of state.Branches) if (isObject(branch)) forEachState(branch, visit);
    }
  }
}

/** Why a definition cannot run on the JSONPath-only library, or undefined when it can. */
function unsupportedReason(definition: JsonObject): string | undefined {
  if (definition.QueryLanguage === 'JSONata') {
    return 'QueryLanguage JSONata is not supported locally (aws-local-stepfunctions runs JSONPath only)';
  }
  let reason: string | undefined;
  forEachState(definition, (name, state) => {
    if (reason) return;
    for (const field of UNSUPPORTED_STATE_FIELDS) {
      if (field in state && !(field === 'QueryLanguage' && state[field] === 'JSONPath')) {
        reason =
          field === 'Assign'
            ? `state ${name} uses Assign: workflow variables are not supported locally (JSONPath without variables only)`
            : `state ${name} uses ${field}: JSONata is not supported locally (aws-local-stepfunctions runs JSONPath only)`;
        return;
      }
    }
    for (const field of DISTRIBUTED_MAP_FIELDS) {
      if (field in state) {
        reason = `state ${name} uses ${field}: Distributed Map is not supported locally`;
        return;
      }
    }
    const processor = state.ItemProcessor;
    if (
      isObject(processor) &&
      isObject(processor.ProcessorConfig) &&
      processor.ProcessorConfig.Mode === 'DISTRIBUTED'
    ) {
      reason = `state ${name} is a Distributed Map (ProcessorConfig.Mode DISTRIBUTED): not supported locally`;
    }
  });
  return reason;
}

/** The integration pattern a Task's Resource asks for, by its suffix (`.sync`, `.sync:2`, `.waitForTaskToken`). */
const PATTERN_SUFFIX = /\.(sync(?::2)?|waitForTaskToken)$/;

/**
 * Why AWS would refuse to create this machine as an EXPRESS workflow, or undefined. "Express Workflows do not
 * support Run a Job (.sync) or Wait for Callback (.waitForTaskToken)" (Step Functions Developer Guide,
 * "Integrating optimized services"); CreateStateMachine answers InvalidDefinition, naming the state.
 */
export function expressRefusal(definition: JsonObject): string | undefined {
  let reason: string | undefined;
  forEachState(definition, (name, state) => {
    if (reason || state.Type !== 'Task' || typeof state.Resource !== 'string') return;
    const pattern = PATTERN_SUFFIX.exec(state.Resource)?.[1];
    if (pattern) {
      reason = `InvalidDefinition: Express state machine does not support '.${pattern}' service integration (state ${name}, Resource ${state.Resource})`;
    }
  });
  return reason;
}

/** Replaces `"key.$": "$$.State.Name"` with the literal name: the library's context has no State. */
function withStateName(template: unknown, stateName: string): unknown {
  if (Array.isArray(template)) return template.map((item) => withStateName(item, stateName));
  if (!isObject(template)) return template;
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$') && value === '$$.State.Name') {
      result[key.slice(0, -2)] = stateName;
    } else {
      result[key] = withStateName(value, stateName);
    }
  }
  return result;
}

function scaleRetriers(retriers: unknown, scale: number): unknown {
  if (!Array.isArray(retriers)) return retriers;
  return retriers.map((retrier) => {
    if (!isObject(retrier)) return retrier;
    const scaled: JsonObject = { ...retrier, IntervalSeconds: Number(retrier.IntervalSeconds ?? 1) * scale };
    if (typeof retrier.MaxDelaySeconds === 'number') scaled.MaxDelaySeconds = retrier.MaxDelaySeconds * scale;
    return scaled;
  });
}

/** The library treats `ResultPath: "$"` as a key named `$`; on AWS it means "the result replaces the input". */
function dropRootResultPath(state: JsonObject): void {
  if (state.ResultPath === '$') delete state.ResultPath;
  if (Array.isArray(state.Catch)) {
    state.Catch = state.Catch.map((catcher) => {
      if (!isObject(catcher) || catcher.ResultPath !== '$') return catcher;
      const { ResultPath: _dropped, ...rest } = catcher;
      return rest;
    });
  }
}

function rewriteMachine(
  machine: JsonObject,
  options: RewriteOptions,
  states: Map<string, StateInfo>,
  warnings: string[],
): JsonObject {
  const rewritten: JsonObject = { ...machine };
  const source = isObject(machine.States) ? machine.States : {};
  const out: JsonObject = {};
  for (const [name, original] of Object.entries(source)) {
    if (!isObject(original)) {
      out[name] = original;
      continue;
    }
    if (states.has(name))
      warnings.push(`state name ${name} is used twice; the local runner keys tasks by name`);
    let state: JsonObject = { ...original };
    for (const field of ['Parameters', 'ItemSelector', 'ResultSelector'] as const) {
      if (field in state) state[field] = withStateName(state[field], name);
    }
    if ('Retry' in state) state.Retry = scaleRetriers(state.Retry, options.retryIntervalScale);
    dropRootResultPath(state);
    switch (original.Type) {
      case 'Task': {
        states.set(name, { name, type: 'Task', definition: original });
        delete state.HeartbeatSeconds;
        delete state.HeartbeatSecondsPath;
        delete state.Credentials;
        if (!('TimeoutSecondsPath' in state)) {
          const seconds =
            typeof original.TimeoutSeconds === 'number'
              ? original.TimeoutSeconds * options.timeoutScale
              : MAX_TIMER_SECONDS;
          state.TimeoutSeconds = Math.min(seconds, MAX_TIMER_SECONDS);
        } else {
          warnings.push(`state ${name}: TimeoutSecondsPath is applied unscaled, against the effective input`);
        }
        break;
      }
      case 'Wait': {
        // The local service runs waits itself (scaled time, SecondsPath/TimestampPath, abort on stop).
        states.set(name, { name, type: 'Wait', definition: original });
        state = { Type: 'Task', Resource: LOCAL_WAIT_RESOURCE, TimeoutSeconds: MAX_TIMER_SECONDS };
        for (const field of ['Comment', 'InputPath', 'OutputPath', 'Next', 'End'] as const) {
          if (field in original) state[field] = original[field];
        }
        break;
      }
      case 'Pass': {
        // The library ignores a falsy Result (0, false, "", null); Parameters yields the same value.
        if ('Result' in state && !state.Result) {
          state.Parameters = state.Result;
          delete state.Result;
        }
        break;
      }
      case 'Map': {
        const processorKey = 'ItemProcessor' in state ? 'ItemProcessor' : 'Iterator';
        const processor = state[processorKey];
        if (isObject(processor)) state[processorKey] = rewriteMachine(processor, options, states, warnings);
        for (const field of ['ToleratedFailurePercentage', 'ToleratedFailureCount', 'Label'] as const) {
          if (field in state) {
            warnings.push(`state ${name}: ${field} is ignored locally`);
            delete state[field];
          }
        }
        break;
      }
      case 'Parallel': {
        if (Array.isArray(state.Branches)) {
          state.Branches = state.Branches.map((branch) =>
            isObject(branch) ? rewriteMachine(branch, options, states, warnings) : branch,
          );
        }
        break;
      }
      default:
        break;
    }
    out[name] = state;
  }
  rewritten.States = out;
  delete rewritten.TimeoutSeconds;
  return rewritten;
}

/**
 * Prepares one template state machine for the local runner. Never throws: a machine that cannot run is
 * returned with `unsupported` set; the service refuses to boot with it (see LocalStepFunctions).
 */
export function prepareMachine(
  resource: LocalResource,
  assemblyDir: string,
  options: RewriteOptions,
): PreparedMachine {
  const type = resource.properties.StateMachineType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD';
  const roleArn = typeof resource.properties.RoleArn === 'string' ? resource.properties.RoleArn : '';
  const base = { arn: resource.arn, name: resource.name, type, roleArn } as const;
  let original: JsonObject;
  try {
    const parsed: unknown = JSON.parse(definitionText(resource, assemblyDir));
    if (!isObject(parsed) || !isObject(parsed.States) || typeof parsed.StartAt !== 'string') {
      throw new Error('the definition has no StartAt/States');
    }
    original = parsed;
  } catch (error) {
    return {
      ...base,
      original: undefined,
      runnable: undefined,
      timeoutSeconds: undefined,
      states: new Map(),
      unsupported: `invalid definition: ${(error as Error).message}`,
      warnings: [],
    };
  }
  const unsupported =
    unsupportedReason(original) ?? (type === 'EXPRESS' ? expressRefusal(original) : undefined);
  const states = new Map<string, StateInfo>();
  const warnings: string[] = [];
  const runnable = unsupported ? undefined : rewriteMachine(original, options, states, warnings);
  return {
    ...base,
    original,
    runnable,
    timeoutSeconds: typeof original.TimeoutSeconds === 'number' ? original.TimeoutSeconds : undefined,
    states,
    unsupported,
    warnings,
  };
}
