# Features newer than Debian's boto3, checked with the AWS SDK for JavaScript
# v3 (tests/integration/node; install with `npm ci` in that folder).

import os
import shutil
import subprocess

import pytest

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")


def node_or_skip():
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@aws-sdk", "client-dynamodb")):
        pytest.skip("@aws-sdk/client-dynamodb is not installed (run `npm ci` in tests/integration/node)")
    return node


def test_return_values_on_condition_check_failure(endpoint, table_s):
    node = node_or_skip()
    p = subprocess.run([node, "rvoccf.mjs", endpoint, table_s], cwd=NODE_DIR, capture_output=True,
                       text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, "node checks failed:\n%s\n%s" % (p.stdout, p.stderr)
    assert p.stdout.count("ok  ") == 9, p.stdout
