import { test } from 'node:test';
import assert from 'node:assert/strict';
import { history } from './compat-gate.js';
import { TOPIC_SCHEMAS, loadSchema } from './topics.js';

test('history holds every topic schema as released: the current .avsc equals the latest snapshot', () => {
  for (const [topic, file] of Object.entries(TOPIC_SCHEMAS)) {
    const versions = history(topic);
    assert.ok(versions.length > 0, `schemas/history/${topic}/ has no v1.avsc`);
    assert.deepEqual(loadSchema(file), versions.at(-1), `schemas/avro/${file} changed: copy it to schemas/history/${topic}/v${versions.length + 1}.avsc (the gate then checks it against all earlier versions)`);
  }
});
