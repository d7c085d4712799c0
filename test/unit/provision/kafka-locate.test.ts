import { describe, expect, it } from 'vitest';
import { isIdemproofError } from '../../../src/errors.js';
import {
  chooseKafka,
  KAFKA_IMAGE,
  parseKafkaBootstrap,
  type KafkaFacts,
} from '../../../src/provision/kafka-locate.js';

const HOME = { home: '/tools/kafka-4.1.1' };

/** Facts whose probes record that they were asked. */
function facts(
  overrides: Partial<{ url: string; jars: typeof HOME | string; docker: true | string }>,
): KafkaFacts & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    url: overrides.url,
    jars: () => {
      asked.push('jars');
      return Promise.resolve(
        overrides.jars ?? 'Kafka 4.1.1 is not installed in /tools/kafka-4.1.1',
      );
    },
    dockerEngine: () => {
      asked.push('docker');
      return Promise.resolve(overrides.docker ?? 'no Docker engine answered');
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('where Kafka comes from', () => {
  it('uses the given broker first, without probing anything', async () => {
    const given = facts({ url: ' kafka://127.0.0.1:9092 ', jars: HOME, docker: true });
    expect(await chooseKafka(given)).toEqual({ way: 'url', bootstrap: '127.0.0.1:9092' });
    expect(given.asked).toEqual([]);
  });

  it('then the installed jars, without asking Docker', async () => {
    const given = facts({ jars: HOME, docker: true });
    expect(await chooseKafka(given)).toEqual({ way: 'jars', home: HOME.home });
    expect(given.asked).toEqual(['jars']);
  });

  it('then a container when a Docker engine answers', async () => {
    const given = facts({ docker: true });
    expect(await chooseKafka(given)).toEqual({ way: 'container', image: KAFKA_IMAGE });
    expect(given.asked).toEqual(['jars', 'docker']);
  });

  it('otherwise an infrastructure error naming the three ways and why each is missing', async () => {
    const error = await failure(chooseKafka(facts({ url: '  ' })));
    expect(isIdemproofError(error) && error.code).toBe('IDEMPROOF_ERR_BROKER_UNAVAILABLE');
    expect(isIdemproofError(error) && error.category).toBe('infrastructure');
    expect(error.message).toContain('IDEMPROOF_KAFKA_URL');
    expect(error.message).toContain('not installed in /tools/kafka-4.1.1');
    expect(error.message).toContain(`${KAFKA_IMAGE}: no Docker engine answered`);
  });
});

describe('bootstrap addresses', () => {
  it.each([
    ['127.0.0.1:9092', '127.0.0.1:9092'],
    ['kafka://127.0.0.1:9092/', '127.0.0.1:9092'],
    ['PLAINTEXT://a.example:9092, PLAINTEXT://b.example:9093', 'a.example:9092,b.example:9093'],
    ['[::1]:9092', '[::1]:9092'],
  ])('reads %s as %s', (written, bootstrap) => {
    expect(parseKafkaBootstrap(written)).toBe(bootstrap);
  });

  it.each(['127.0.0.1', 'kafka://host', 'host:0', 'host:70000', ' , '])(
    'refuses %s with a usage error that shows the expected form',
    (written) => {
      let caught: unknown;
      try {
        parseKafkaBootstrap(written);
      } catch (error) {
        caught = error;
      }
      expect(isIdemproofError(caught) && caught.code).toBe('IDEMPROOF_ERR_USAGE');
    },
  );

  it('a bad given URL is a usage error, before any probe', async () => {
    const given = facts({ url: 'localhost', jars: HOME });
    const error = await failure(chooseKafka(given));
    expect(isIdemproofError(error) && error.code).toBe('IDEMPROOF_ERR_USAGE');
    expect(error.message).toContain('127.0.0.1:9092');
    expect(given.asked).toEqual([]);
  });
});
