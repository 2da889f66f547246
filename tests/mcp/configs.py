"""Start the server as each client's installed configuration says, with the official MCP Python
SDK, and look an ID up through it.

Run by tests/it/mcp.rs after `concord mcp install --cursor --claude --codex`:
`python3 configs.py WORKSPACE ID`. Claude Code and Codex start project servers in the project
folder; Cursor expands `${workspaceFolder}`: both are done here the same way.
"""
import asyncio
import json
import sys
import tomllib
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def check(name: str, server: dict, workspace: Path, wanted: str) -> None:
    args = [a.replace("${workspaceFolder}", str(workspace)) for a in server.get("args", [])]
    params = StdioServerParameters(command=server["command"], args=args, env=server.get("env"),
                                   cwd=str(workspace))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            result = await session.call_tool("lookup", {"id": wanted})
            assert not result.is_error, (name, result.content)
            found = json.dumps(result.structured_content)
            assert wanted in found and str(workspace) in found, (name, found[:500])
    print(f"{name}: ok")


async def main() -> None:
    workspace, wanted = Path(sys.argv[1]).resolve(), sys.argv[2]
    servers = {
        "cursor": json.loads((workspace / ".cursor/mcp.json").read_text())["mcpServers"]["concord"],
        "claude": json.loads((workspace / ".mcp.json").read_text())["mcpServers"]["concord"],
        "codex": tomllib.loads((workspace / ".codex/config.toml").read_text())["mcp_servers"]["concord"],
    }
    for name, server in servers.items():
        await check(name, server, workspace, wanted)


asyncio.run(main())
