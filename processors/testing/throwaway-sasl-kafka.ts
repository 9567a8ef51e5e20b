/**
 * Test support: a private single-node KRaft Kafka broker whose client listener is SASL_PLAINTEXT (PLAIN and
 * SCRAM-SHA-512), from the local stack's own jars (.stack/kafka/libs), in a temporary directory on free
 * loopback ports. The stack's broker is PLAINTEXT; this one proves that the clients authenticate. Not used
 * by production code.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './spawn-service.js';
import { waitFor } from './wait.js';

export interface SaslKafka {
  brokers: string;
  /** A user known to both mechanisms. */
  user: string;
  password: string;
  stop(): Promise<void>;
}

const root = fileURLToPath(new URL('../../', import.meta.url));
export const STACK_KAFKA_LIBS = join(root, '.stack/kafka/libs');

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

/** Starts the broker and resolves once its client port answers and its log says it started. */
export async function startSaslKafka(readyTimeoutMs = 180_000): Promise<SaslKafka> {
  if (!existsSync(STACK_KAFKA_LIBS)) throw new Error(`no Kafka jars in ${STACK_KAFKA_LIBS}: run npm run stack:install`);
  const dir = mkdtempSync(join(tmpdir(), 'sasl-kafka-'));
  const [port, controllerPort] = [await freePort(), await freePort()];
  const user = 'rtb';
  const password = `rtb-${process.pid}-${Date.now()}`;
  const props = join(dir, 'server.properties');
  writeFileSync(props, [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=SASL_PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=SASL_PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=SASL_PLAINTEXT',
    'listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=PLAIN',
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_${user}="${password}";`,
    'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    `log.dirs=${join(dir, 'data')}`,
    'num.partitions=4',
    'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=4',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n'));
  const java = (args: string[]): string[] => ['-Xms128m', '-Xmx384m', '-XX:+UseSerialGC', `-Dlog4j2.configurationFile=${join(root, 'deploy/stack/kafka-log4j2.properties')}`, '-cp', `${STACK_KAFKA_LIBS}/*`, ...args];
  execFileSync('java', java(['kafka.tools.StorageTool', 'format', '-t', 'MkU3OEVBNTcwNTJENDM2Qk', '-c', props, '--add-scram', `SCRAM-SHA-512=[name=${user},password=${password}]`]), { stdio: 'pipe' });
  const child: ChildProcess = spawn('java', java(['kafka.Kafka', props]), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', () => child.kill('SIGKILL'));
  try {
    await waitFor(async () => {
      if (/Kafka Server started/.test(out) && (await portOpen(port))) return true;
      if (child.exitCode !== null) throw new Error('the broker exited');
      return false;
    }, { what: 'the SASL Kafka broker', timeoutMs: readyTimeoutMs, intervalMs: 250 });
  } catch {
    await kill();
    throw new Error(`the SASL Kafka broker did not start within ${readyTimeoutMs} ms:\n${out.slice(-3000)}`);
  }
  return { brokers: `127.0.0.1:${port}`, user, password, stop: kill };
}
