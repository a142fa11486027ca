// ReturnValuesOnConditionCheckFailure (single-item writes): a failed condition
// with ALL_OLD carries the old item in ConditionalCheckFailedException.Item,
// with NONE it carries none. Debian's boto3 is too old to send the parameter.
// Behaviour per the API Reference (PutItem, UpdateItem, DeleteItem:
// ReturnValuesOnConditionCheckFailure) and observed behaviour of DynamoDB.
//
// usage: node rvoccf.mjs ENDPOINT TABLE   (table: hash key "p" of type S)
// Prints one line per check; exits 0 only when every check passed.
import {
  DynamoDBClient, PutItemCommand, UpdateItemCommand, DeleteItemCommand,
  ConditionalCheckFailedException,
} from '@aws-sdk/client-dynamodb';

const [endpoint, table] = process.argv.slice(2);
if (!endpoint || !table) {
  console.error('usage: node rvoccf.mjs ENDPOINT TABLE');
  process.exit(2);
}
const client = new DynamoDBClient({
  endpoint, region: 'us-east-1', maxAttempts: 1,
  credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
});

let failures = 0;
function check(name, ok, detail) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok ? '' : ': ' + detail}`);
  if (!ok) failures++;
}

// Sends `cmd`, which must fail its condition; returns the exception.
async function failing(cmd) {
  try {
    await client.send(cmd);
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException || e.name === 'ConditionalCheckFailedException') return e;
    throw e;
  }
  throw new Error('the write succeeded but its condition should have failed');
}

// Key order in JSON objects is not significant: compare canonical forms.
const canon = (v) => (v && typeof v === 'object' && !Array.isArray(v))
  ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])]))
  : Array.isArray(v) ? v.map(canon) : v;
const same = (a, b) => a !== undefined && JSON.stringify(canon(a)) === JSON.stringify(canon(b));
const old = { p: { S: 'k' }, s: { S: 'cat' } };
const cond = { ConditionExpression: 's = :v', ExpressionAttributeValues: { ':v': { S: 'dog' } } };

try {
  await client.send(new PutItemCommand({ TableName: table, Item: old }));

  let e = await failing(new PutItemCommand({ TableName: table, Item: { p: { S: 'k' }, s: { S: 'cow' } },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD', ...cond }));
  check('PutItem ALL_OLD returns Item', same(e.Item, old), JSON.stringify(e.Item));
  check('PutItem message', e.message === 'The conditional request failed', e.message);

  e = await failing(new PutItemCommand({ TableName: table, Item: { p: { S: 'k' }, s: { S: 'cow' } },
    ReturnValuesOnConditionCheckFailure: 'NONE', ...cond }));
  check('PutItem NONE returns no Item', e.Item === undefined, JSON.stringify(e.Item));

  e = await failing(new PutItemCommand({ TableName: table, Item: { p: { S: 'k' }, s: { S: 'cow' } }, ...cond }));
  check('PutItem default returns no Item', e.Item === undefined, JSON.stringify(e.Item));

  e = await failing(new UpdateItemCommand({ TableName: table, Key: { p: { S: 'k' } },
    UpdateExpression: 'SET s = :n', ConditionExpression: 's = :v',
    ExpressionAttributeValues: { ':v': { S: 'dog' }, ':n': { S: 'new' } },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
  check('UpdateItem ALL_OLD returns Item', same(e.Item, old), JSON.stringify(e.Item));

  e = await failing(new DeleteItemCommand({ TableName: table, Key: { p: { S: 'k' } },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD', ...cond }));
  check('DeleteItem ALL_OLD returns Item', same(e.Item, old), JSON.stringify(e.Item));

  e = await failing(new DeleteItemCommand({ TableName: table, Key: { p: { S: 'k' } },
    ReturnValuesOnConditionCheckFailure: 'NONE', ...cond }));
  check('DeleteItem NONE returns no Item', e.Item === undefined, JSON.stringify(e.Item));

  // A failed condition on a missing item has nothing to return.
  e = await failing(new PutItemCommand({ TableName: table, Item: { p: { S: 'absent' } },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD', ConditionExpression: 'attribute_exists(p)' }));
  check('missing item: no Item', e.Item === undefined, JSON.stringify(e.Item));

  // A successful conditional write returns neither Attributes nor Item.
  const ok = await client.send(new PutItemCommand({ TableName: table, Item: { p: { S: 'k' }, s: { S: 'dog' } },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD', ConditionExpression: 's = :v',
    ExpressionAttributeValues: { ':v': { S: 'cat' } } }));
  check('success returns no Attributes', ok.Attributes === undefined, JSON.stringify(ok.Attributes));
} catch (e) {
  check('unexpected error', false, `${e.name}: ${e.message}`);
}
process.exit(failures ? 1 : 0);
