"""End-to-end test of `concord mcp` with the official MCP Python SDK as the client.

Run by tests/it/mcp.rs: `python3 e2e.py BINARY WORKSPACE`, where WORKSPACE is a git repository
holding a copy of examples/marketplace. The server is started in an unrelated folder (clients
give no reliable working folder), so every call passes `cwd`. Exits non-zero on the first
failed check, printing what was expected and what came back.
"""

import asyncio
import json
import os
import sys
import tempfile

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError as McpError

BINARY, WS = sys.argv[1], sys.argv[2]
AGENT = "AGENT-MCP"
TOOLS = {
    "whoami_scope", "lookup", "search_spec", "suggest_ids", "check_changes",
    "coverage", "task", "lock_acquire", "lock_release",
}
# A fake AWS key of the documented example shape: never in any answer in full.
SECRET = "AKIA" + "QZ7XBFN2WL4KD6TP"
checks = 0


def check(condition, what, got=None):
    global checks
    checks += 1
    if not condition:
        detail = json.dumps(got, indent=1, default=str)[:3000] if got is not None else ""
        print(f"FAILED: {what}\n{detail}", file=sys.stderr)
        sys.exit(1)


def data(result):
    """The structured content of a successful call."""
    check(not result.is_error, "the call succeeds", [c.model_dump() for c in result.content])
    check(isinstance(result.structured_content, dict), "an answer has structured content", result.structured_content)
    text = result.content[0].text
    check(" — next: " in text, "the text is a one-line summary with a hint", text)
    sc = result.structured_content
    for key in ("summary", "next", "workspace"):
        check(key in sc, f"the answer has `{key}`", sc)
    check(sc["workspace"]["root"] == os.path.realpath(WS), "the answer names the root it used", sc["workspace"])
    check(sc["workspace"]["model_built_at"].endswith("Z"), "the answer says when the model was built", sc["workspace"])
    return sc


async def error_of(session, name, arguments):
    """A refused call: either a tool error (isError with a message) or a protocol error."""
    try:
        result = await session.call_tool(name, arguments)
    except McpError as e:
        check(e.error.message, f"{name}: the protocol error has a message", str(e))
        return e.error.message
    check(result.is_error, f"{name} {arguments} is refused", result.model_dump())
    message = result.content[0].text
    check(len(message) > 20, f"{name}: the refusal says why", message)
    return message


def params(extra_env=None, args=None):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        # An empty trust store: the workspace is untrusted unless the server is told otherwise.
        "XDG_CONFIG_HOME": tempfile.mkdtemp(prefix="concord-mcp-trust-"),
        "CONCORD_AGENT": AGENT,
    }
    env.update(extra_env or {})
    return StdioServerParameters(command=BINARY, args=["mcp", *(args or [])], cwd="/", env=env)


async def untrusted():
    async with stdio_client(params(args=["-C", WS])) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            check(init.server_info.name == "concord", "the server names itself", init.server_info.model_dump())
            listed = await session.list_tools()
            names = {t.name for t in listed.tools}
            check(names == TOOLS, "the server lists exactly the documented tools", sorted(names))
            for tool in listed.tools:
                check("cwd" in tool.input_schema.get("properties", {}), f"{tool.name} takes `cwd`", tool.input_schema)
                check(tool.description, f"{tool.name} has a description", tool.model_dump())
            read_only = {t.name for t in listed.tools if t.annotations and t.annotations.read_only_hint}
            check(read_only == TOOLS - {"lock_acquire", "lock_release"}, "the read tools say they are read-only", sorted(read_only))

            # lookup: a chunk with its text, a work item, near misses, not an ID, no ID.
            sc = data(await session.call_tool("lookup", {"cwd": WS, "id": "TD-0001"}))
            check(sc["kind"] == "chunk" and sc["id"] == "TD-0001", "lookup finds the chunk", sc)
            check(sc["text"].startswith("#") and "TD-0001" in sc["text"], "lookup gives the chunk's markdown", sc.get("text"))
            check(sc["coverage"] in ("covered", "missing_wbs", "missing_code", "missing_tests"), "lookup gives coverage", sc)
            check(any(w["id"] == "WBS-002" for w in sc["work_items"]), "lookup lists the chunk's work items", sc)
            check(sc["workspace"]["rebuilt_for_this_call"] is True, "the first call builds the model", sc["workspace"])
            sc = data(await session.call_tool("lookup", {"cwd": WS + "/services", "id": "WBS-002"}))
            check(sc["kind"] == "work" and sc["acceptance_criteria"], "lookup of a work item gives its criteria", sc)
            check(sc["workspace"]["rebuilt_for_this_call"] is False, "an unchanged workspace is not rebuilt", sc["workspace"])
            message = await error_of(session, "lookup", {"cwd": WS, "id": "TD-0999"})
            check("unknown" in message, "an unknown ID is said to be unknown", message)
            message = await error_of(session, "lookup", {"cwd": WS, "id": "hello"})
            check("not an ID" in message, "a word that is not an ID is refused", message)
            await error_of(session, "lookup", {"cwd": WS})
            await error_of(session, "lookup", {"cwd": WS, "id": 42})
            await error_of(session, "lookup", {"cwd": WS, "id": "TD-0001", "bogus": True})
            message = await error_of(session, "lookup", {"cwd": "/nonexistent/folder", "id": "TD-0001"})
            check("cwd" in message, "a bad cwd is named", message)

            # search_spec
            sc = data(await session.call_tool("search_spec", {"cwd": WS, "query": "refund payment", "limit": 5}))
            check(1 <= len(sc["results"]) <= 5, "search ranks up to `limit` results", sc)
            check(all(r["id"] and r["title"] for r in sc["results"]), "results have IDs and titles", sc)
            check(any("refund" in r["title"].lower() for r in sc["results"]), "a refund chunk ranks", sc["results"])
            sc = data(await session.call_tool("search_spec", {"cwd": WS, "query": "refund", "chunks_only": True}))
            check(all(r["kind"] == "chunk" for r in sc["results"]), "chunks_only leaves work items out", sc)
            await error_of(session, "search_spec", {"cwd": WS, "query": ""})
            await error_of(session, "search_spec", {"cwd": WS, "query": "x", "limit": -1})

            # suggest_ids
            sc = data(await session.call_tool("suggest_ids", {"cwd": WS, "path": "services/payments/refunds.py"}))
            check(sc["candidates"] and all(c["id"] and c["why"] for c in sc["candidates"]), "suggest_ids ranks IDs with reasons", sc)
            message = await error_of(session, "suggest_ids", {"cwd": WS, "path": "../../etc/passwd"})
            check("leaves the workspace" in message, "a path out of the workspace is refused", message)
            await error_of(session, "suggest_ids", {"cwd": WS, "path": "no/such/file.py"})

            # coverage
            sc = data(await session.call_tool("coverage", {"cwd": WS, "id": "TD-0001"}))
            check(sc["chunks"][0]["blueprint_id"] == "TD-0001" and "status" in sc["chunks"][0], "coverage of a chunk", sc)
            sc = data(await session.call_tool("coverage", {"cwd": WS, "topic": "payments"}))
            check(sc["chunks"] and all(c["topic"] == "Payments" for c in sc["chunks"]), "coverage of a topic", sc)
            sc = data(await session.call_tool("coverage", {"cwd": WS}))
            check("summary" in sc, "coverage totals", sc)
            message = await error_of(session, "coverage", {"cwd": WS, "topic": "no such topic"})
            check("Payments" in message, "an unknown topic lists the topics", message)
            await error_of(session, "coverage", {"cwd": WS, "id": "WBS-999"})

            # whoami_scope and task without a lock; the lock tools refused while untrusted
            sc = data(await session.call_tool("whoami_scope", {"cwd": WS}))
            check(sc["agent"] == AGENT and sc["lock"] is None, "an agent without a lock is told so", sc)
            sc = data(await session.call_tool("whoami_scope", {"cwd": WS, "agent": "AGENT-2"}))
            check(sc["lock"]["task_id"] == "WBS-012" and sc["scope_paths"], "another agent's lock by `agent`", sc)
            await error_of(session, "task", {"cwd": WS})
            message = await error_of(session, "lock_acquire", {"cwd": WS, "task": "WBS-004"})
            check("not a trusted workspace" in message, "lock_acquire is refused in an untrusted workspace", message)
            message = await error_of(session, "lock_release", {"cwd": WS})
            check("not a trusted workspace" in message, "lock_release is refused in an untrusted workspace", message)
            check(not os.path.exists(os.path.join(WS, "ops/locks", AGENT + ".lock")), "nothing was locked", None)
            await error_of(session, "check_changes", {"cwd": WS, "paths": ["/etc/passwd"]})
            await error_of(session, "no_such_tool", {})

            # resources
            resources = (await session.list_resources()).resources
            uris = {str(r.uri) for r in resources}
            check("concord://chunk/TD-0001" in uris and "concord://wbs/WBS-002" in uris, "resources list chunks and work items", sorted(uris)[:5])
            read = await session.read_resource("concord://chunk/TD-0001")
            check(any("TD-0001" in getattr(c, "text", "") for c in read.contents), "a chunk resource reads as its text", read.model_dump())
            read = await session.read_resource("concord://wbs/WBS-002")
            check(any("Acceptance criteria" in getattr(c, "text", "") for c in read.contents), "a work-item resource", read.model_dump())
            for bad in ("concord://chunk/TD-0999", "concord://wbs/TD-0001", "concord://other/x"):
                try:
                    await session.read_resource(bad)
                    check(False, f"reading {bad} fails", None)
                except McpError as e:
                    check(e.error.message, f"reading {bad} says why", str(e))

            # still alive after every refusal
            data(await session.call_tool("lookup", {"cwd": WS, "id": "NT-0001"}))


async def scenario():
    """An agent takes a lock on WBS-004, edits a file outside it, and is told so."""
    async with stdio_client(params(args=["--trust"])) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            sc = data(await session.call_tool("lock_acquire", {"cwd": WS, "task": "WBS-004"}))
            check(sc["lock"]["task_id"] == "WBS-004", "lock_acquire takes the lock", sc)
            message = await error_of(session, "lock_acquire", {"cwd": WS, "task": "WBS-012", "agent": "AGENT-3"})
            check("overlap" in message or "AGENT-2" in message, "an overlapping lock is refused", message)
            sc = data(await session.call_tool("whoami_scope", {"cwd": WS}))
            check(sc["lock"]["task_id"] == "WBS-004" and sc["changed"]["outside_scope"] == [], "a fresh lock has nothing outside", sc)
            sc = data(await session.call_tool("task", {"cwd": WS}))
            check(sc["task_id"] == "WBS-004" and sc["test_commands"] is not None and sc["run"] is None, "task of a lock taken by hand", sc)

            # Edits: one outside the scope, one inside with an unknown ID and a key.
            with open(os.path.join(WS, "services/auth/sessions.py"), "a") as f:
                f.write("\n# a change the analytics agent must not make\n")
            with open(os.path.join(WS, "services/analytics/events.py"), "a") as f:
                f.write(f"\n# implements TD-0999\nAWS_KEY = \"{SECRET}\"\n")

            sc = data(await session.call_tool("check_changes", {"cwd": WS}))
            check(sc["workspace"]["rebuilt_for_this_call"] is True, "edited files rebuild the model", sc["workspace"])
            check(sc["passed"] is False, "the changes do not pass", sc)
            by_path = {f["path"]: f for f in sc["files"]}
            check("services/auth/sessions.py" in by_path, "the edited file outside the scope is listed", sorted(by_path))
            codes = {f["code"] for f in by_path["services/auth/sessions.py"]["findings"]}
            check("outside-scope" in codes, "check_changes says the file is outside the scope", by_path["services/auth/sessions.py"])
            inside = {f["code"] for f in by_path["services/analytics/events.py"]["findings"]}
            check("outside-scope" not in inside, "a file inside the scope is not outside it", by_path["services/analytics/events.py"])
            check({"unknown-id", "secret"} <= inside, "the unknown ID and the key are found", sorted(inside))
            check("TD-0999" in json.dumps(sc), "the unknown ID is named", None)
            check(sc["scope_problems"] >= 1 and "revert" in sc["next"], "the hint says to revert", sc["next"])
            sc = data(await session.call_tool("check_changes", {"cwd": WS, "paths": ["services/analytics/events.py"]}))
            check([f["path"] for f in sc["files"]] == ["services/analytics/events.py"], "check_changes of given paths", sc)
            sc = data(await session.call_tool("whoami_scope", {"cwd": WS}))
            check(sc["changed"]["outside_scope"] == ["services/auth/sessions.py"], "whoami_scope lists the file outside", sc["changed"])
            check("OUTSIDE" in sc["summary"], "the summary says so", sc["summary"])
            check("change_budget" in json.dumps(sc["budget"]) or "max_files" in sc["budget"], "the budget is reported", sc["budget"])

            sc = data(await session.call_tool("lock_release", {"cwd": WS}))
            check(sc["released"]["task_id"] == "WBS-004", "lock_release gives the lock back", sc)
            await error_of(session, "lock_release", {"cwd": WS})


async def everything():
    await untrusted()
    await scenario()
    # The key written in the scenario is reported, never returned in full.
    async with stdio_client(params(args=["--trust"])) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            result = await session.call_tool("check_changes", {"cwd": WS, "agent": AGENT})
            dumped = json.dumps(result.model_dump(), default=str)
            check(SECRET not in dumped, "the key is never returned in full", None)
            check(SECRET[:4] in dumped or "secret" in dumped, "the key is reported (redacted)", None)


asyncio.run(everything())
print(f"{checks} passed, 0 failed")
