import json
import logging

from yiwang.core.logging import JsonFormatter, RequestIdFilter, request_id_var


def test_log_lines_are_json_with_the_request_id():
    token = request_id_var.set("abc123def456")
    try:
        record = logging.LogRecord("yiwang.test", logging.INFO, __file__, 1, "办件 %s 已受理", ("X1",), None)
        record.case = "X1"
        RequestIdFilter().filter(record)
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)
    payload = json.loads(line)
    assert payload["msg"] == "办件 X1 已受理"
    assert payload["request_id"] == "abc123def456"
    assert payload["case"] == "X1"
    assert payload["level"] == "INFO"
    assert "\n" not in line


def test_incoming_request_id_is_kept_only_when_safe(client):
    ok = client.get("/api/openapi.json", HTTP_X_REQUEST_ID="gateway-id-0001")
    assert ok["X-Request-ID"] == "gateway-id-0001"
    unsafe = client.get("/api/openapi.json", HTTP_X_REQUEST_ID="<script>")
    assert unsafe["X-Request-ID"] != "<script>" and len(unsafe["X-Request-ID"]) == 32
