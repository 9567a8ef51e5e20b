import { test } from 'node:test';
import assert from 'node:assert/strict';
import { catalogueSize, stageDelivery, stageEnv } from './stages.js';

test('stage env points a processor at its own topics and group; bid follows the campaigns topic', () => {
  const env = stageEnv('bid', { name: 'b-1', input: 'in', output: 'out', partitions: 4 });
  assert.equal(env.BID_NAME, 'b-1');
  assert.equal(env.BID_INPUT, 'in');
  assert.equal(env.BID_CAMPAIGNS_TOPIC, 'campaigns');
  assert.equal(stageEnv('passthrough', { name: 'p', input: 'i', output: 'o', partitions: 1, schema: 'bid-set.avsc' }).PASSTHROUGH_SCHEMA, 'bid-set.avsc');
  assert.equal(catalogueSize('{"level":30,"campaigns":276,"msg":"campaign catalogue loaded"}\n'), 276);
});

test('the pass-through takes the delivery of the stage it is measured against, read from that stage\'s start-up log', () => {
  assert.equal(stageEnv('passthrough', { name: 'p', input: 'i', output: 'o', partitions: 1, delivery: 'at-least-once' }).PASSTHROUGH_DELIVERY, 'at-least-once');
  assert.equal(stageEnv('passthrough', { name: 'p', input: 'i', output: 'o', partitions: 1 }).PASSTHROUGH_DELIVERY, undefined);
  assert.equal(stageDelivery('{"level":30,"group":"rtb-x","delivery":"at-least-once","port":1,"msg":"processor started"}\n'), 'at-least-once');
  assert.equal(stageDelivery('{"level":30,"msg":"processor started"}\n'), null);
});
