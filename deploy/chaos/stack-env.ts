/**
 * The stack the chaos run injects faults into, from the same variables as deploy/stack/stack.sh
 * (STACK_KAFKA_PORT, STACK_PG_PORT, ...: a second stack on other ports works the same way), and the
 * services' variables (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, POSTGRES_URL, REDIS_URL) made to point at it.
 *
 * Imported FIRST by deploy/chaos.ts and deploy/chaos.int.test.ts: it fills in the services' variables
 * that are unset before any other module reads its configuration, and refuses a set one that names
 * another port than the stack's: the run would then kill one broker while the services use another.
 */
export interface StackPorts {
  kafka: number;
  kafkaController: number;
  registry: number;
  registryMgmt: number;
  pg: number;
  redis: number;
}

const port = (env: NodeJS.ProcessEnv, name: string, fallback: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name}=${JSON.stringify(raw)} is not a port`);
  return n;
};

/** The stack's ports as stack.sh reads them (same variables, same defaults). */
export function stackPorts(env: NodeJS.ProcessEnv = process.env): StackPorts {
  return {
    kafka: port(env, 'STACK_KAFKA_PORT', 9092),
    kafkaController: port(env, 'STACK_KAFKA_CONTROLLER_PORT', 9093),
    registry: port(env, 'STACK_REGISTRY_PORT', 8081),
    registryMgmt: port(env, 'STACK_REGISTRY_MGMT_PORT', 9000),
    pg: port(env, 'STACK_PG_PORT', 5432),
    redis: port(env, 'STACK_REDIS_PORT', 6379),
  };
}

/** The services' variables for the stack on `p` (credentials as stack.sh creates them). */
export function serviceEnvFor(p: StackPorts, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const user = env.STACK_DB_USER || 'rtb';
  const password = env.STACK_DB_PASSWORD || 'rtb';
  const db = env.STACK_DB_NAME || 'rtb';
  return {
    KAFKA_BROKERS: `127.0.0.1:${p.kafka}`,
    SCHEMA_REGISTRY_URL: `http://127.0.0.1:${p.registry}/apis/ccompat/v7`,
    POSTGRES_URL: `postgres://${user}:${password}@127.0.0.1:${p.pg}/${db}`,
    REDIS_URL: `redis://127.0.0.1:${p.redis}`,
  };
}

/** The port a service variable names (host:port list, or a URL), for the consistency check. */
function portIn(name: string, value: string): number {
  if (name === 'KAFKA_BROKERS') return Number(value.split(',')[0]!.trim().split(':').pop());
  const u = new URL(value);
  return Number(u.port || (u.protocol === 'http:' ? 80 : 0));
}

/**
 * Sets each unset service variable to the stack's; throws naming the variable when one is set to a
 * different port than the stack's (both must be changed together).
 */
export function alignServiceEnv(env: NodeJS.ProcessEnv = process.env): StackPorts {
  const p = stackPorts(env);
  const want = serviceEnvFor(p, env);
  const stackVar: Record<string, string> = { KAFKA_BROKERS: 'STACK_KAFKA_PORT', SCHEMA_REGISTRY_URL: 'STACK_REGISTRY_PORT', POSTGRES_URL: 'STACK_PG_PORT', REDIS_URL: 'STACK_REDIS_PORT' };
  for (const [name, value] of Object.entries(want)) {
    const set = env[name];
    if (set === undefined || set === '') {
      env[name] = value;
      continue;
    }
    if (portIn(name, set) !== portIn(name, value)) {
      throw new Error(`${name}=${set} does not name the stack's port ${portIn(name, value)} (${stackVar[name]}): the chaos run would kill one server while the services use another; set both to the same port, or unset ${name}`);
    }
  }
  return p;
}

export const chaosStack: StackPorts = alignServiceEnv();
