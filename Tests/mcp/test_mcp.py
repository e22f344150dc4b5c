"""The Model Context Protocol server, driven by the official Python SDK (PyPI `mcp`) as an agent's
host would drive it: over Streamable HTTP at /mcp, and over stdio with `soma mcp` (relaying to the
service, and --local). Each checks every tool's schema and result, resources, the prompt, and that a
namespace-limited token sees nothing of another namespace.

    python3 -m pytest -q Tests/mcp      (after swift build; SOMA_BINARY overrides .build/debug/soma)
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import anyio
import httpx2
import jsonschema
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "compat"))
from test_original_api import BINARY, start, start_with_tokens  # noqa: E402

ADMIN, ALPHA, BETA = "admin-token-0123456789", "alpha-token-0123456789", "beta-token-0123456789"
TOOLS = {"store_memory", "recall", "get_memory", "update_memory", "forget_memory", "link_memories", "neighbours", "shortest_path", "stats"}


@pytest.fixture(scope="module")
def server():
    started = start_with_tokens({ADMIN: "*", ALPHA: "alpha", BETA: "beta"})
    yield started
    started.stop()


def structured(result):
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert json.loads(result.content[0].text) == result.structured_content, "the text is the same JSON"
    return result.structured_content


async def exercise(session, namespace):
    """The walk an agent makes: list, store three, recall one, link two, read a resource, forget one."""
    initialized = await session.initialize()
    assert initialized.server_info.name == "somafractalmemory"
    tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
        assert tool.description and len(tool.description) > 20
    stored = []
    for coordinate, text in [("1,1", "the user's cat is called Miso"), ("2,2", "the user prefers tea to coffee"), ("3,3", "meeting with Ada on Friday")]:
        stored.append(structured(await session.call_tool("store_memory", {"text": text, "coordinate": coordinate, "type": "semantic", "importance": 2})))
    assert [memory["coord"] for memory in stored] == ["1,1", "2,2", "3,3"] and all(m["namespace"] == namespace for m in stored)
    auto = structured(await session.call_tool("store_memory", {"payload": {"note": "no coordinate given"}}))
    assert len(auto["coordinate"]) == 2, "a coordinate is made for a memory stored without one"
    recalled = structured(await session.call_tool("recall", {"query": "tea to coffee", "top_k": 2}))
    assert recalled["results"][0]["memory"]["payload"]["text"] == "the user prefers tea to coffee" and recalled["results"][0]["score"] > 0
    keyword = structured(await session.call_tool("recall", {"query": "Miso", "mode": "keyword"}))
    assert [hit["coord"] for hit in keyword["results"]] == ["1,1"]
    link = structured(await session.call_tool("link_memories", {"from": "1,1", "to": [2, 2], "type": "related", "weight": 0.5}))
    assert link["from"] == "1,1" and link["to"] == "2,2"
    neighbours = structured(await session.call_tool("neighbours", {"coordinate": "1,1"}))
    assert [n["to"] for n in neighbours["neighbors"]] == ["2,2"]
    path = structured(await session.call_tool("shortest_path", {"from": "1,1", "to": "2,2"}))
    assert path == {"found": True, "path": ["1,1", "2,2"], "total_weight": 0.5}
    updated = structured(await session.call_tool("update_memory", {"coordinate": "3,3", "text": "meeting with Ada moved to Monday"}))
    assert updated["version"] == 2 and updated["payload"]["text"] == "meeting with Ada moved to Monday"
    templates = (await session.list_resource_templates()).resource_templates
    assert templates[0].uri_template == "soma://{namespace}/memory/{coord}"
    listed = [str(resource.uri) for resource in (await session.list_resources()).resources]
    assert f"soma://{namespace}/memory/1,1" in listed
    read = await session.read_resource(f"soma://{namespace}/memory/1,1")
    assert json.loads(read.contents[0].text)["payload"]["text"] == "the user's cat is called Miso"
    forgotten = structured(await session.call_tool("forget_memory", {"coordinate": "2,2"}))
    assert forgotten == {"deleted": 1}
    gone = await session.call_tool("get_memory", {"coordinate": "2,2"})
    assert gone.is_error and "not_found" in gone.content[0].text and "no memory at 2,2" in gone.content[0].text
    bad = await session.call_tool("store_memory", {"text": "x", "type": "procedural"})
    assert bad.is_error and "type must be 'episodic' or 'semantic'" in bad.content[0].text, "the REST API's message"
    counts = structured(await session.call_tool("stats", {}))
    assert counts == {"namespace": namespace, "total": 3, "episodic": 1, "semantic": 2}
    prompt = await session.get_prompt("recall_first", {"topic": "pets"})
    assert "recall" in prompt.messages[0].content.text and "pets" in prompt.messages[0].content.text


async def sees_nothing_of(session, namespace, other):
    """With a token limited to `namespace`, nothing of `other` comes back through any tool or resource."""
    await session.initialize()
    for call, arguments in [("recall", {"query": "cat called Miso tea coffee Ada", "top_k": 50}), ("recall", {"query": "Miso", "mode": "keyword"}),
                            ("get_memory", {"coordinate": "1,1"}), ("neighbours", {"coordinate": "1,1"}), ("stats", {})]:
        result = await session.call_tool(call, arguments)
        text = " ".join(content.text for content in result.content)
        assert "Miso" not in text and other not in text.replace(f"namespace {namespace}", ""), (call, text)
    assert not (await session.list_resources()).resources
    with pytest.raises(Exception):
        await session.read_resource(f"soma://{other}/memory/1,1")


def http_session(server, token, namespace):
    headers = {"Authorization": f"Bearer {token}", "X-Soma-Namespace": namespace}
    return streamable_http_client(f"http://127.0.0.1:{server.port}/mcp", http_client=create_mcp_http_client(headers=headers))


def test_streamable_http(server):
    async def main():
        async with http_session(server, ALPHA, "alpha") as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await exercise(session, "alpha")
        async with http_session(server, BETA, "beta") as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await sees_nothing_of(session, "beta", "alpha")
    anyio.run(main)


def test_http_without_a_token_or_outside_the_tokens_namespace_is_refused(server):
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    headers = {"Accept": "application/json, text/event-stream"}
    url = f"http://127.0.0.1:{server.port}/mcp"
    assert httpx2.post(url, json=body, headers=headers).status_code == 401
    refused = httpx2.post(url, json=body, headers={**headers, "Authorization": f"Bearer {ALPHA}", "X-Soma-Namespace": "beta"})
    assert refused.status_code == 403 and refused.json()["code"] == "namespace_forbidden"


def stdio_parameters(*arguments, **environment):
    base = {key: value for key, value in os.environ.items() if not key.startswith("SOMA_")}
    return StdioServerParameters(command=BINARY, args=["mcp", *arguments], env={**base, **environment})


def test_stdio_relaying_to_the_service(server):
    async def main():
        url = f"http://127.0.0.1:{server.port}"
        async with stdio_client(stdio_parameters("--url", url, "--token", ADMIN, "--namespace", "relayed")) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await exercise(session, "relayed")
        async with stdio_client(stdio_parameters("--url", url, "--token", BETA, "--namespace", "beta")) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await sees_nothing_of(session, "beta", "relayed")
        async with stdio_client(stdio_parameters("--url", url, "--namespace", "relayed")) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                with pytest.raises(Exception) as refused:
                    await session.initialize()
                assert "401" in str(refused.value)
    anyio.run(main)


def test_stdio_local_on_the_embedded_default():
    data = tempfile.mkdtemp(prefix="soma-mcp-local-")

    async def main():
        async with stdio_client(stdio_parameters("--local", SOMA_DATA_DIR=data, SOMA_EMBEDDER="hash", LOG_LEVEL="info")) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await exercise(session, "api_ns")
    anyio.run(main)
    # The process has exited; what it stored is on disk for the next one.
    served = start(SOMA_DATA_DIR=data)
    try:
        status, memory = served.call("GET", "/v1/memories/1,1")
        assert status == 200 and memory["payload"]["text"] == "the user's cat is called Miso"
    finally:
        served.stop()


def test_stdio_local_answers_every_request_it_read_before_input_ends():
    """Requests written all at once, then end of input at once (a host that pipes a script): each
    is answered before the process exits, the last one included."""
    data = tempfile.mkdtemp(prefix="soma-mcp-eof-")
    lines = [{"jsonrpc": "2.0", "id": 0, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "pipe", "version": "1"}}},
             {"jsonrpc": "2.0", "method": "notifications/initialized"}]
    lines += [{"jsonrpc": "2.0", "id": index, "method": "tools/call",
               "params": {"name": "store_memory", "arguments": {"text": f"piped memory {index}", "coordinate": [index, 0]}}}
              for index in range(1, 21)]
    environment = {**{key: value for key, value in os.environ.items() if not key.startswith("SOMA_")},
                   "SOMA_DATA_DIR": data, "SOMA_EMBEDDER": "hash"}
    run = subprocess.run([BINARY, "mcp", "--local"], input="".join(json.dumps(line) + "\n" for line in lines),
                         env=environment, capture_output=True, text=True, timeout=60)
    answered = {json.loads(line)["id"] for line in run.stdout.splitlines() if line.strip()}
    assert answered == set(range(0, 21)), (sorted(answered), run.stderr[-2000:])
    assert run.returncode == 0, run.stderr[-2000:]


def test_bad_messages_get_a_json_rpc_error_or_a_tool_error_never_a_5xx(server):
    url = f"http://127.0.0.1:{server.port}/mcp"
    headers = {"Authorization": f"Bearer {ADMIN}", "Accept": "application/json, text/event-stream", "Content-Type": "application/json",
               "MCP-Protocol-Version": "2025-11-25"}

    def post(body):
        answer = httpx2.post(url, content=body if isinstance(body, bytes) else json.dumps(body), headers=headers, timeout=30)
        assert answer.status_code < 500, answer.text
        return answer.status_code, answer.json()

    status, answer = post(b"{not json")
    assert status == 400 and answer["error"]["code"] in (-32700, -32600)
    status, answer = post({"jsonrpc": "2.0", "id": True, "method": "tools/list"})
    assert status == 400 and "id" in answer["error"]["message"], "an id the SDK would never answer is refused at once"
    status, answer = post({"jsonrpc": "2.0", "id": 1, "method": "no/such/method"})
    assert answer["error"]["code"] == -32601
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "no_such_tool", "arguments": {}}}
    status, answer = post(call)
    assert status == 200 and answer["result"]["isError"] and "no tool named 'no_such_tool'" in answer["result"]["content"][0]["text"]
    call["params"] = {"name": "recall", "arguments": {"query": 5}}
    status, answer = post(call)
    assert answer["result"]["isError"] and "query" in answer["result"]["content"][0]["text"]
    call["params"] = {"name": "store_memory", "arguments": {"text": "x" * (2 << 20)}}
    status, answer = post(call)
    assert status == 413 and answer["code"] == "body_too_large", "the API's body limit, with its JSON error"


def test_stated_defaults_are_what_a_call_without_them_gets_and_resources_are_newest_first(server):
    """Each default a tool's schema states (JSON Schema `default`, repeated in its description) is
    what a call without that argument produces; the resource list runs from the newest write."""
    async def main():
        async with http_session(server, ADMIN, "defaults") as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                tools = {tool.name: tool.input_schema["properties"] for tool in (await session.list_tools()).tools}
                stated = {(tool, argument): schema["default"] for tool, properties in tools.items()
                          for argument, schema in properties.items() if "default" in schema}
                assert set(stated) == {("store_memory", "type"), ("store_memory", "importance"), ("recall", "top_k"), ("recall", "mode"),
                                       ("link_memories", "type"), ("link_memories", "weight")}, stated
                for (tool, argument), value in stated.items():
                    assert f"(default {value:g})" in tools[tool][argument]["description"] if isinstance(value, (int, float)) \
                        else f"(default {value})" in tools[tool][argument]["description"], (tool, argument)

                texts = [f"note {index} about the garden and the greenhouse" for index in range(8)]
                for index, text in enumerate(texts):
                    memory = structured(await session.call_tool("store_memory", {"text": text, "coordinate": f"{index},9"}))
                    assert memory["type"] == stated[("store_memory", "type")], memory
                    assert memory["importance"] == stated[("store_memory", "importance")], memory
                plain = structured(await session.call_tool("recall", {"query": "garden greenhouse"}))["results"]
                assert len(plain) == stated[("recall", "top_k")]
                explicit = structured(await session.call_tool("recall", {"query": "garden greenhouse", "mode": stated[("recall", "mode")],
                                                                         "top_k": stated[("recall", "top_k")]}))["results"]
                assert [(hit["coord"], hit["score"]) for hit in plain] == [(hit["coord"], hit["score"]) for hit in explicit]
                other = "vector" if stated[("recall", "mode")] != "vector" else "keyword"
                elsewise = structured(await session.call_tool("recall", {"query": "garden greenhouse", "mode": other}))["results"]
                assert [hit["score"] for hit in elsewise] != [hit["score"] for hit in plain], "the modes differ, so the check can fail"
                link = structured(await session.call_tool("link_memories", {"from": "0,9", "to": "1,9"}))
                assert link["type"] == stated[("link_memories", "type")] and link["weight"] == stated[("link_memories", "weight")], link

                # Rewriting the oldest makes it the newest.
                structured(await session.call_tool("update_memory", {"coordinate": "0,9", "text": "the garden note, rewritten"}))
                listed = [str(resource.uri) for resource in (await session.list_resources()).resources]
                expected = ["0,9"] + [f"{index},9" for index in reversed(range(1, 8))]
                assert [uri.rsplit("/", 1)[1] for uri in listed][:8] == expected, listed
    anyio.run(main)


def test_the_readmes_exchange_answers_as_shown():
    """The README's MCP example, run on the embedded default: the recall finds the stored memory
    with the score the README shows (two decimals)."""
    text = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = text.split("A short exchange on the embedded default", 1)[1].split("```", 2)[1]
    calls = [json.loads(line[2:])["params"] for line in block.splitlines() if line.startswith("→ ")]
    shown = json.loads(next(line[2:] for line in block.splitlines() if line.startswith("← ") and '"results"' in line)
                       .replace("...", '"elided": 0'))["structuredContent"]["results"][0]

    async def main():
        parameters = stdio_parameters("--local", SOMA_DATA_DIR=tempfile.mkdtemp(prefix="soma-readme-"))
        async with stdio_client(parameters) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                stored = structured(await session.call_tool(calls[0]["name"], calls[0]["arguments"]))
                assert stored["embedding_model"] == "all-MiniLM-L6-v2", "the README speaks of the default model"
                recalled = structured(await session.call_tool(calls[1]["name"], calls[1]["arguments"]))["results"][0]
                assert recalled["memory"]["payload"] == shown["memory"]["payload"]
                assert round(recalled["score"], 2) == shown["score"], recalled["score"]
    anyio.run(main)
