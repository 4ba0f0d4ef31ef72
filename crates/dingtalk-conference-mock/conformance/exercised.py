"""Fails unless schemathesis exercised every operation of the spec.

    python exercised.py SPEC.yaml REQUESTS.har [MORE.har ...]

Reads the requests schemathesis sent (its HAR reports, one per run), matches each to an operation of the
spec by method and path template (a parameter matches one segment; where two templates match,
the one with more literal segments wins, as in the fake server's router), and prints, per
operation, how many requests were sent and how many were answered 2xx. Exits 1 if any
operation of the spec has no request or no 2xx answer, naming them; 2 if the report cannot be
read.
"""

import json
import sys
from urllib.parse import unquote, urlsplit

import yaml

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def operations(spec_path):
    with open(spec_path, encoding="utf-8") as spec_file:
        spec = yaml.safe_load(spec_file)
    found = []
    for template, item in (spec.get("paths") or {}).items():
        for method, operation in item.items():
            if method in METHODS:
                found.append((operation["operationId"], method.upper(), template.split("/")))
    return found


def match(ops, method, path):
    segments = [unquote(segment) for segment in path.split("/")]
    best = None
    for operation_id, op_method, parts in ops:
        if op_method != method or len(parts) != len(segments):
            continue
        literals = 0
        for part, segment in zip(parts, segments):
            if part.startswith("{") and part.endswith("}"):
                continue
            if part != segment:
                break
            literals += 1
        else:
            if best is None or literals > best[1]:
                best = (operation_id, literals)
    return best[0] if best else None


def main(spec_path, *har_paths):
    ops = operations(spec_path)
    entries = []
    for har_path in har_paths:
        try:
            with open(har_path, encoding="utf-8") as har_file:
                entries.extend(json.load(har_file)["log"]["entries"])
        except (OSError, ValueError, KeyError) as error:
            print(f"exercised: cannot read the HAR report {har_path}: {error}", file=sys.stderr)
            return 2
    sent = {operation_id: 0 for operation_id, _, _ in ops}
    succeeded = dict(sent)
    for entry in entries:
        request = entry.get("request") or {}
        operation_id = match(ops, request.get("method", "").upper(), urlsplit(request.get("url", "")).path)
        if operation_id is None:
            continue
        sent[operation_id] += 1
        status = (entry.get("response") or {}).get("status") or 0
        if 200 <= status < 300:
            succeeded[operation_id] += 1
    width = max(len(operation_id) for operation_id in sent)
    print(f"{'operation':<{width}}  requests  2xx")
    for operation_id in sent:
        print(f"{operation_id:<{width}}  {sent[operation_id]:>8}  {succeeded[operation_id]:>3}")
    missing = [operation_id for operation_id, count in sent.items() if count == 0]
    unanswered = [operation_id for operation_id, count in succeeded.items() if count == 0 and sent[operation_id]]
    if missing:
        print(f"exercised: never sent: {', '.join(missing)}", file=sys.stderr)
    if unanswered:
        print(f"exercised: never answered 2xx: {', '.join(unanswered)}", file=sys.stderr)
    if missing or unanswered:
        return 1
    print(f"exercised: all {len(sent)} operations sent and answered 2xx at least once")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], *sys.argv[2:]))
