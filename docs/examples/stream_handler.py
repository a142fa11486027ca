# A DynamoDB Streams handler written exactly as for AWS Lambda (Python
# runtime, event source mapping with FunctionResponseTypes
# ["ReportBatchItemFailures"]). Run it for a Basalt trigger with
#   tools/basalt-lambda-host --port 9000 docs/examples/stream_handler.py
# and point the trigger's Target.Url at http://127.0.0.1:9000/
# (docs/triggers.md, "A Lambda function as a target").
import json


def lambda_handler(event, context):
    failures = []
    for record in event["Records"]:
        try:
            process(record)
        except Exception as e:
            print("failed %s: %s" % (record["eventID"], e), flush=True)
            # Lambda retries from the first failed record.
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    return {"batchItemFailures": failures}


def process(record):
    image = record["dynamodb"].get("NewImage", {})
    if "reject" in image:
        raise ValueError("rejected item")
    print(json.dumps({"event": record["eventName"],
                      "keys": record["dynamodb"]["Keys"],
                      "sequence": record["dynamodb"]["SequenceNumber"]}), flush=True)
