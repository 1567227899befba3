"""/docs: the OpenAPI description rendered server-side (no CDN, no JavaScript); /openapi.json has the spec."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from evwire.web.templating import render

router = APIRouter(include_in_schema=False)
METHODS = ("get", "post", "put", "patch", "delete")


def _ref_name(schema: dict) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"list[{_ref_name(schema.get('items', {}))}]"
    if "anyOf" in schema:
        return " | ".join(_ref_name(s) for s in schema["anyOf"])
    return str(schema.get("type", "object"))


@router.get("/docs")
def api_docs(request: Request) -> Response:
    spec = request.app.openapi()
    operations = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if not op:
                continue
            responses = []
            for code, resp in op.get("responses", {}).items():
                schema = resp.get("content", {}).get("application/json", {}).get("schema")
                responses.append((code, resp.get("description", ""), _ref_name(schema) if schema else ""))
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "params": [
                        (
                            p["name"],
                            p["in"],
                            p.get("required", False),
                            _ref_name(p.get("schema", {})),
                            p.get("description", ""),
                        )
                        for p in op.get("parameters", [])
                    ],
                    "body": _ref_name(body) if body else None,
                    "responses": responses,
                    "admin": bool(op.get("security")),
                }
            )
    schemas = spec.get("components", {}).get("schemas", {})
    models = [
        (
            name,
            [(f, _ref_name(s), f in sch.get("required", [])) for f, s in sch.get("properties", {}).items()],
        )
        for name, sch in sorted(schemas.items())
        if not name.startswith(("HTTPValidationError", "ValidationError"))
    ]
    return render(
        request, "api_docs.html", {"operations": operations, "models": models, "info": spec["info"]}
    )
