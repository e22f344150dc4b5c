"""A small SomaFractalMemory client using only the Python standard library.

    python3 examples/client.py            # against http://127.0.0.1:9595
    SOMA_URL=... SOMA_API_TOKEN=... python3 examples/client.py
"""
import json
import os
import urllib.error
import urllib.request


class SomaClient:
    def __init__(self, url=None, token=None, namespace=None):
        self.url = (url or os.environ.get("SOMA_URL", "http://127.0.0.1:9595")).rstrip("/")
        self.token = token or os.environ.get("SOMA_API_TOKEN")
        self.namespace = namespace

    def _call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.namespace:
            headers["X-Soma-Namespace"] = self.namespace
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            detail = json.loads(error.read() or b"{}")
            raise RuntimeError(f"{error.code} {detail.get('code')}: {detail.get('detail')}") from None

    def store(self, coord, payload, type="episodic", **extra):
        return self._call("POST", "/v1/memories", {"coord": coord, "payload": payload, "type": type, **extra})

    def get(self, coord):
        return self._call("GET", f"/v1/memories/{coord}")

    def search(self, query, top_k=5, mode="vector", **extra):
        return self._call("POST", "/v1/memories/search", {"query": query, "top_k": top_k, "mode": mode, **extra})["results"]

    def link(self, source, target, type="related", weight=1.0):
        return self._call("POST", "/v1/links", {"from": source, "to": target, "type": type, "weight": weight})

    def path(self, source, target):
        return self._call("GET", f"/v1/links/path?from={source}&to={target}")

    def stats(self):
        return self._call("GET", "/v1/stats")


if __name__ == "__main__":
    soma = SomaClient(namespace="python-example")
    soma.store("1,1", {"text": "Python clients can store memories"})
    soma.store("2,2", {"text": "and recall them by meaning"}, type="semantic")
    soma.link("1,1", "2,2")
    for hit in soma.search("store memories from python", top_k=2):
        print(f"{hit['score']:.3f} {hit['coord']} {hit['memory']['payload']['text']}")
    print(soma.path("1,1", "2,2"))
    print(soma.stats())
