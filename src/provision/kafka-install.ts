import { execFile } from 'node:child_process';
import { access, mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify, stripVTControlCharacters } from 'node:util';
import { IdemproofError, describeError } from '../errors.js';
import { makeManagedFolder } from './temp-folder.js';
import { findOnPath, isExecutable, toolsDir } from './tools-dir.js';

const run = promisify(execFile);

/** The Apache Kafka release whose jars idemproof runs: KRaft only, Java 17 or newer. */
export const KAFKA_VERSION = '4.1.1';
const LOG4J_VERSION = '2.24.3';
/** The goal by its full coordinates: no plugin-prefix lookup, the same plugin everywhere. */
const COPY_DEPENDENCIES_GOAL =
  'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies';
const INSTALL_TIMEOUT_MS = 10 * 60 * 1000;
/** Written last: a folder without it is an interrupted install and is redone. */
const COMPLETE_MARKER = '.complete';

/**
 * The pom that names what a broker needs: the server (`kafka_2.13` brings kafka-server,
 * kafka-storage, the raft and coordinator modules), `kafka-tools` for ProducerPerformance, and
 * the log4j 2 binding for the slf4j 1.7 the server logs through. It is generated into the tools
 * folder, so the npm package needs no extra file.
 */
export function kafkaPom(version: string = KAFKA_VERSION): string {
  const dependency = (group: string, artifact: string, at: string): string =>
    `    <dependency><groupId>${group}</groupId><artifactId>${artifact}</artifactId>` +
    `<version>${at}</version></dependency>`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<project xmlns="http://maven.apache.org/POM/4.0.0">',
    '  <modelVersion>4.0.0</modelVersion>',
    '  <groupId>dev.idemproof.tools</groupId>',
    '  <artifactId>kafka-broker</artifactId>',
    `  <version>${version}</version>`,
    '  <packaging>pom</packaging>',
    '  <dependencies>',
    dependency('org.apache.kafka', 'kafka_2.13', version),
    dependency('org.apache.kafka', 'kafka-tools', version),
    dependency('org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J_VERSION),
    '  </dependencies>',
    '</project>',
    '',
  ].join('\n');
}

/**
 * Warnings and errors on the console (kept in the process's output tail for error messages),
 * plus the one line that says the server started.
 */
const LOG4J_CONFIG = [
  'status = warn',
  'appender.console.type = Console',
  'appender.console.name = STDOUT',
  'appender.console.layout.type = PatternLayout',
  'appender.console.layout.pattern = [%d] %p %m (%c)%n',
  'rootLogger.level = WARN',
  'rootLogger.appenderRef.stdout.ref = STDOUT',
  'logger.started.name = kafka.server.KafkaRaftServer',
  'logger.started.level = INFO',
  '',
].join('\n');

/** An installed release: `<home>/libs/*.jar` and `<home>/log4j2.properties`. */
export interface KafkaHome {
  readonly home: string;
  readonly version: string;
}

/** Where `installKafka` puts the release: `<tools>/kafka-<version>`. */
export function installedKafkaHome(env: NodeJS.ProcessEnv = process.env): string {
  return join(toolsDir(env), `kafka-${KAFKA_VERSION}`);
}

export function kafkaClasspath(home: string): string {
  return join(home, 'libs', '*');
}

export function kafkaLog4jConfig(home: string): string {
  return join(home, 'log4j2.properties');
}

/** The installed release, or why there is none (a sentence that says how to fix it). */
export async function findInstalledKafka(
  env: NodeJS.ProcessEnv = process.env,
): Promise<KafkaHome | string> {
  const home = installedKafkaHome(env);
  try {
    await access(join(home, COMPLETE_MARKER));
    return { home, version: KAFKA_VERSION };
  } catch {
    return `Kafka ${KAFKA_VERSION} is not installed in ${home} (run 'idemproof setup', which resolves it from Maven Central with mvn)`;
  }
}

/** `$JAVA_HOME/bin/java`, else the first `java` on the PATH; an error that says how to fix it. */
export async function findJava(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const javaHome = env.JAVA_HOME;
  if (javaHome !== undefined && javaHome !== '') {
    const candidate = join(javaHome, 'bin', 'java');
    if (await isExecutable(candidate)) return candidate;
  }
  const onPath = await findOnPath('java', env);
  if (onPath !== undefined) return onPath;
  throw new IdemproofError(
    'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
    `Kafka needs Java 17 or newer, and there is no 'java' in JAVA_HOME=${javaHome ?? '(unset)'} ` +
      `or on PATH. Install a JDK (e.g. 'apt-get install openjdk-17-jre-headless'), or set ` +
      `IDEMPROOF_KAFKA_URL to the bootstrap address of a running broker.`,
  );
}

/** The jars in `<home>/libs`, sorted; empty when the folder is missing. */
export async function kafkaJars(home: string): Promise<string[]> {
  const names = await readdir(join(home, 'libs')).catch(() => [] as string[]);
  return names.filter((name) => name.endsWith('.jar')).sort();
}

/** Maven's closing advice, the same after every failure. */
const MAVEN_BOILERPLATE = /full stack trace|Re-run Maven|For more information|\[Help \d+\] http/;

/** How mvn ended, then the lines of its output that say why ("[ERROR] ..."), else its tail. */
function mavenFailure(error: unknown): string {
  const { stdout, stderr, code, killed } = error as Partial<
    Record<'stdout' | 'stderr', unknown> & { code: unknown; killed: boolean }
  >;
  const ending =
    killed === true
      ? `mvn was stopped after ${String(INSTALL_TIMEOUT_MS / 60_000)} minutes`
      : typeof code === 'number'
        ? `mvn exited with code ${String(code)}`
        : describeError(error);
  const text = stripVTControlCharacters(
    [stdout, stderr].filter((part) => typeof part === 'string').join('\n'),
  );
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const errors = lines.filter(
    (line) => /^\[ERROR\] \S/.test(line) && !MAVEN_BOILERPLATE.test(line),
  );
  return [ending, ...(errors.length > 0 ? errors.slice(0, 4) : lines.slice(-8))].join('\n');
}

/**
 * Resolves the pinned Apache Kafka release and all its runtime dependencies from Maven Central
 * into `<tools>/kafka-<version>/libs` with `mvn dependency:copy-dependencies`, using a pom
 * generated there. Skipped when the release is already there. The install is staged in a
 * sibling folder and renamed into place, so a folder is complete or absent, and two
 * processes installing at once both end with the same result.
 *
 * Must not: touch anything outside the tools folder (Maven's own ~/.m2 cache aside), or leave
 * a half-filled release folder behind.
 */
export async function installKafka(
  options: { log?: (line: string) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<{ home: string; version: string; installed: boolean; seconds: number }> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const existing = await findInstalledKafka(env);
  if (typeof existing !== 'string') {
    log(`Kafka ${KAFKA_VERSION} already installed at ${existing.home}`);
    return { ...existing, installed: false, seconds: (Date.now() - started) / 1000 };
  }

  await findJava(env);
  const mvn = await findOnPath('mvn', env);
  if (mvn === undefined) {
    throw new IdemproofError(
      'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
      `cannot install Kafka ${KAFKA_VERSION}: no 'mvn' on PATH. Install Maven 3 ` +
        `(e.g. 'apt-get install maven') and run 'idemproof setup' again, or set ` +
        `IDEMPROOF_KAFKA_URL to the bootstrap address of a running broker.`,
    );
  }

  const home = installedKafkaHome(env);
  await mkdir(toolsDir(env), { recursive: true });
  const { path: staging, remove: removeStaging } = await makeManagedFolder(
    `${home}-staging-`,
    'Kafka install being staged in',
  );
  try {
    const pom = join(staging, 'pom.xml');
    await writeFile(pom, kafkaPom());
    await writeFile(kafkaLog4jConfig(staging), LOG4J_CONFIG);
    const args = [
      '-B',
      '-q',
      '-f',
      pom,
      COPY_DEPENDENCIES_GOAL,
      `-DoutputDirectory=${join(staging, 'libs')}`,
      '-DincludeScope=runtime',
    ];
    log(`installing Kafka ${KAFKA_VERSION} from Maven Central: mvn ${args.join(' ')}`);
    try {
      await run(mvn, args, {
        env,
        cwd: staging,
        timeout: INSTALL_TIMEOUT_MS,
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (error) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
        `cannot install Kafka ${KAFKA_VERSION}: 'mvn ${args.join(' ')}' failed. Is Maven ` +
          `Central reachable (or a mirror set in ~/.m2/settings.xml)? Fix that and run ` +
          `'idemproof setup' again, or set IDEMPROOF_KAFKA_URL to the bootstrap address of a ` +
          `running broker.\n${mavenFailure(error)}`,
        { cause: error },
      );
    }
    const jars = await kafkaJars(staging);
    if (!jars.includes(`kafka_2.13-${KAFKA_VERSION}.jar`)) {
      throw new IdemproofError(
        'IDEMPROOF_ERR_BROKER_UNAVAILABLE',
        `cannot install Kafka ${KAFKA_VERSION}: mvn finished but ${join(staging, 'libs')} ` +
          `holds no kafka_2.13-${KAFKA_VERSION}.jar (${String(jars.length)} jars).`,
      );
    }
    await writeFile(join(staging, COMPLETE_MARKER), `${KAFKA_VERSION}\n${jars.join('\n')}\n`);
    await rename(staging, home).catch(async (error: unknown) => {
      // Another process finished first: fine when its copy is complete.
      if (typeof (await findInstalledKafka(env)) === 'string') throw error;
    });
  } finally {
    await removeStaging();
  }
  const seconds = (Date.now() - started) / 1000;
  log(`installed Kafka ${KAFKA_VERSION} in ${home} in ${seconds.toFixed(1)} s`);
  return { home, version: KAFKA_VERSION, installed: true, seconds };
}
