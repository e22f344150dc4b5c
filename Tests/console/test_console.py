"""The web console at /console, driven in Debian's headless Chromium through chromium-driver
(PyPI selenium) as a person would use it: sign in, list, filter, open, edit, delete, search in three
modes, draw the link graph and a shortest path, and a namespace-limited token kept to its namespace.
Screenshots of every page at desktop and phone width go to $SOMA_ARTIFACTS/console (default
.artifacts/console). The browser's network log must name no host but the service's, and its
console must hold no JavaScript error.

    python3 -m pytest -q Tests/console      (after swift build; SOMA_BINARY overrides .build/debug/soma)
"""
import json
import os
import pathlib
import sys
import time
import urllib.parse

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "compat"))
from test_original_api import ROOT, start, start_with_tokens  # noqa: E402

ADMIN, ALPHA, BETA = "admin-token-0123456789", "alpha-token-0123456789", "beta-token-0123456789"
ARTIFACTS = pathlib.Path(os.environ.get("SOMA_ARTIFACTS", ROOT / ".artifacts")) / "console"
DESKTOP, PHONE = (1280, 900), (390, 844)
TOPICS = ["cats", "tea", "travel"]
SEEDED = 30
# The link graph around 0,0 (weights in brackets):
#   5 -part_of(2)-> 0 -related(1)-> 1 -related(1)-> 2 -related(1)-> 3
#                   0 -causes(3)--> 4 -related(0.5)-----------------> 3
# Within 2 links of 0 (both directions): 0,1,4,5 then 2,3: 6 memories and 5 links (2->3 joins two
# memories at depth 2, so it is not read). The cheapest path 0->3 is 0,1,2,3 (3 < 3.5): drawing it
# adds the link 2->3, and marks 3 links and 4 memories.
LINKS = [("0,0", "1,0", "related", 1), ("1,0", "2,0", "related", 1), ("2,0", "3,0", "related", 1),
         ("0,0", "4,0", "causes", 3), ("5,0", "0,0", "part_of", 2), ("4,0", "3,0", "related", 0.5)]


def text_of(index):
    return f"memory number {index} about {TOPICS[index % 3]}"


@pytest.fixture(scope="module")
def server():
    started = start_with_tokens({ADMIN: "*", ALPHA: "alpha", BETA: "beta"})
    alpha = {"X-Soma-Namespace": "alpha"}
    for index in range(SEEDED):
        payload = {"text": text_of(index), "topic": TOPICS[index % 3]}
        status, _ = started.call("POST", "/v1/memories", {"coord": f"{index},0", "payload": payload, "type": "semantic" if index % 2 else "episodic"},
                                 token=ALPHA, headers=alpha)
        assert status == 201
        time.sleep(0.005)  # distinct creation times: the list is newest first
    for source, target, kind, weight in LINKS:
        status, _ = started.call("POST", "/v1/links", {"from": source, "to": target, "type": kind, "weight": weight}, token=ALPHA, headers=alpha)
        assert status == 201
    status, _ = started.call("POST", "/v1/memories", {"coord": "0,0", "payload": {"text": "beta's own secret plan"}}, token=BETA, headers={"X-Soma-Namespace": "beta"})
    assert status == 201
    yield started
    started.stop()


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-extensions"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_window_size(*DESKTOP)
    yield driver
    driver.quit()


def wait(driver, condition, timeout=15):
    return WebDriverWait(driver, timeout).until(condition)


def ready(driver, page):
    """Waits until the page named has finished loading (the console marks <main> when it has)."""
    wait(driver, lambda d: d.find_element(By.ID, "main").get_attribute("data-ready") == page and d.find_element(By.ID, "main").get_attribute("aria-busy") is None)


def go(driver, server, hash_path, page):
    driver.execute_script("document.getElementById('main').removeAttribute('data-ready')")
    driver.get(f"http://127.0.0.1:{server.port}/console/#/{hash_path}")
    ready(driver, page)


def shoot(driver, name):
    """The page at desktop and at phone width; at phone width nothing may overflow sideways."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for label, size in [("desktop", DESKTOP), ("phone", PHONE)]:
        driver.set_window_size(*size)
        time.sleep(0.3)
        driver.save_screenshot(str(ARTIFACTS / f"{name}-{label}.png"))
        if label == "phone":
            overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{name} overflows a phone's width by {overflow}px"
            # Nor may a table hide a column off to the side behind its own scroll bar.
            hidden_columns = driver.execute_script(
                "return [...document.querySelectorAll('.table-wrap')].filter(w => w.offsetParent && w.scrollWidth > w.clientWidth + 1).map(w => w.firstElementChild.id)")
            assert not hidden_columns, f"{name}: at a phone's width these tables scroll sideways: {hidden_columns}"
    driver.set_window_size(*DESKTOP)


def sign_in(driver, server, token, namespace):
    driver.get(f"http://127.0.0.1:{server.port}/console/#/signin")
    driver.execute_script("sessionStorage.clear()")
    driver.refresh()
    field = wait(driver, EC.visibility_of_element_located((By.ID, "signin-token")))
    field.clear()
    field.send_keys(token)
    namespace_field = driver.find_element(By.ID, "signin-namespace")
    namespace_field.clear()
    namespace_field.send_keys(namespace)
    driver.find_element(By.CSS_SELECTOR, "#signin-form button[type=submit]").click()


def rows(driver):
    """The listed coordinates, read in one step (a re-render cannot leave a stale row behind)."""
    return driver.execute_script("return [...document.querySelectorAll('#memories-table tbody tr td:first-child a')].map(a => a.textContent)")


SIGNED_IN_ONLY = ["nav", "session", "sign-out"]


def assert_signed_out(driver):
    """Only the sign-in form: no page links, namespace or sign-out, as computed, not as marked."""
    for element_id in SIGNED_IN_ONLY:
        element = driver.find_element(By.ID, element_id)
        assert not element.is_displayed(), f"#{element_id} shows while signed out"
        assert driver.execute_script("return getComputedStyle(arguments[0]).display", driver.find_element(By.ID, element_id)) == "none" \
            or not driver.execute_script("return arguments[0].getClientRects().length", element), element_id
    assert driver.find_element(By.ID, "signin-form").is_displayed()


def test_console_walkthrough(server, browser):
    driver = browser
    driver.get(f"http://127.0.0.1:{server.port}/console/")
    wait(driver, EC.visibility_of_element_located((By.ID, "signin-token")))
    assert_signed_out(driver)
    # The page itself is open; a wrong token is refused with a message on the sign-in form.
    sign_in(driver, server, "not-a-token", "alpha")
    error = wait(driver, EC.visibility_of_element_located((By.ID, "signin-error")))
    assert "Sign-in failed: wrong token" in error.text and "not valid" in error.text, error.text
    assert_signed_out(driver)
    shoot(driver, "signin")

    sign_in(driver, server, ALPHA, "alpha")
    ready(driver, "overview")
    assert driver.execute_script("return localStorage.length") == 0, "the token is never kept in local storage"
    assert driver.execute_script("return sessionStorage.getItem('soma.token')") == ALPHA
    cards = [card.text for card in driver.find_elements(By.CSS_SELECTOR, "#overview-counts .card")]
    assert cards[0].startswith(str(SEEDED)) and cards[1].startswith("15") and cards[2].startswith("15"), cards
    backends = driver.find_element(By.ID, "overview-backends").text
    assert "sqlite" in backends and "hash" in backends, backends
    assert "Store requests" in driver.find_element(By.ID, "overview-rates").text
    assert "Vectors waiting to be merged" in driver.find_element(By.ID, "overview-index").text
    shoot(driver, "overview")

    # The list: newest first, 25 a page, both pages together the seeded memories.
    go(driver, server, "memories", "memories")
    first_page = rows(driver)
    assert len(first_page) == 25 and first_page[0] == f"{SEEDED - 1},0", first_page[:3]
    driver.find_element(By.ID, "page-next").click()
    wait(driver, lambda d: "Page 2 of 2" in d.find_element(By.ID, "page-label").text)
    assert sorted(first_page + rows(driver)) == sorted(f"{i},0" for i in range(SEEDED))
    shoot(driver, "memories")
    # Sorting by coordinate, then a payload filter.
    driver.find_element(By.CSS_SELECTOR, "th[data-sort=coord] button").click()
    wait(driver, lambda d: rows(d)[0] == "0,0")
    driver.find_element(By.ID, "filter-field").send_keys("topic")
    driver.find_element(By.ID, "filter-value").send_keys("tea")
    driver.find_element(By.CSS_SELECTOR, "#memories-filter button").click()
    wait(driver, lambda d: len(rows(d)) == SEEDED // 3)
    assert set(rows(driver)) == {f"{i},0" for i in range(SEEDED) if i % 3 == 1}
    Select(driver.find_element(By.ID, "filter-type")).select_by_visible_text("semantic")
    driver.find_element(By.CSS_SELECTOR, "#memories-filter button").click()
    wait(driver, lambda d: set(rows(d)) == {f"{i},0" for i in range(SEEDED) if i % 3 == 1 and i % 2 == 1})

    # One memory: its payload and its links both ways.
    go(driver, server, "memory/0%2C0", "memory")
    assert json.loads(driver.find_element(By.ID, "memory-payload").text) == {"text": text_of(0), "topic": "cats"}
    links_out = driver.find_element(By.ID, "links-out").text
    assert "1,0" in links_out and "4,0" in links_out and "causes" in links_out
    assert "5,0" in driver.find_element(By.ID, "links-in").text
    shoot(driver, "memory")
    # Importance edited from the page.
    field = driver.find_element(By.ID, "importance-input")
    field.clear()
    field.send_keys("7")
    driver.find_element(By.CSS_SELECTOR, "#importance-form button").click()
    wait(driver, lambda d: "Importance\n7" in d.find_element(By.ID, "memory-facts").text or "Importance 7" in d.find_element(By.ID, "memory-facts").text)
    assert driver.find_element(By.ID, "status").text == "Importance saved."
    assert server.call("GET", "/v1/memories/0,0", token=ALPHA, headers={"X-Soma-Namespace": "alpha"})[1]["importance"] == 7
    # Delete asks first: cancelled, nothing goes; confirmed, the memory is gone.
    go(driver, server, "memory/29%2C0", "memory")
    driver.find_element(By.ID, "delete-memory").click()
    wait(driver, EC.visibility_of_element_located((By.ID, "delete-dialog")))
    driver.find_element(By.CSS_SELECTOR, "#delete-dialog button[value=cancel]").click()
    time.sleep(0.3)
    assert server.call("GET", "/v1/memories/29,0", token=ALPHA, headers={"X-Soma-Namespace": "alpha"})[0] == 200
    driver.find_element(By.ID, "delete-memory").click()
    wait(driver, EC.visibility_of_element_located((By.ID, "delete-dialog")))
    driver.find_element(By.ID, "delete-confirm").click()
    wait(driver, lambda d: d.current_url.endswith("#/memories"))
    ready(driver, "memories")
    assert driver.find_element(By.ID, "status").text == "Memory deleted."
    assert server.call("GET", "/v1/memories/29,0", token=ALPHA, headers={"X-Soma-Namespace": "alpha"})[0] == 404

    # Search: the three modes side by side, each with its scores.
    go(driver, server, "search", "search")
    driver.find_element(By.ID, "search-query").send_keys(text_of(7))
    driver.find_element(By.CSS_SELECTOR, "#search-form button").click()
    for mode in ["vector", "keyword", "hybrid"]:
        wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, f"#results-{mode} li a"))
        first = driver.find_element(By.CSS_SELECTOR, f"#results-{mode} li")
        assert first.find_element(By.TAG_NAME, "a").text == "7,0", (mode, first.text)
        assert float(first.find_element(By.CLASS_NAME, "score").text) > 0
    shoot(driver, "search")

    # The graph around 0,0 to depth 2, then the shortest path to 3,0 highlighted.
    go(driver, server, "graph/0%2C0", "graph")
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#graph-canvas g.node")) == 6)
    assert len(driver.find_elements(By.CSS_SELECTOR, "#graph-canvas line.edge")) == 5
    assert {node.get_attribute("data-coord") for node in driver.find_elements(By.CSS_SELECTOR, "#graph-canvas g.node")} == {"0,0", "1,0", "2,0", "3,0", "4,0", "5,0"}
    widths = {float(edge.get_attribute("stroke-width")) for edge in driver.find_elements(By.CSS_SELECTOR, "#graph-canvas line.edge")}
    assert len(widths) > 1, "edge width follows the weight"
    legend = driver.find_element(By.ID, "graph-legend").text
    assert {"causes", "part_of", "related"} <= set(legend.split()), legend
    path_to = driver.find_element(By.ID, "path-to")
    path_to.send_keys("3,0")
    driver.find_element(By.CSS_SELECTOR, "#path-form button").click()
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#graph-canvas line.edge.on-path")) == 3)
    assert len(driver.find_elements(By.CSS_SELECTOR, "#graph-canvas g.node.on-path")) == 4
    assert len(driver.find_elements(By.CSS_SELECTOR, "#graph-canvas line.edge")) == 6
    assert "0,0 → 1,0 → 2,0 → 3,0" in driver.find_element(By.ID, "graph-note").text
    # Every link carries an arrowhead at its target, in its type's colour.
    markers = driver.execute_script(
        "return [...document.querySelectorAll('#graph-canvas line.edge')].map(l => l.getAttribute('marker-end'))")
    assert len(markers) == 6 and all(marker and marker.startswith("url(#arrow-") for marker in markers), markers
    assert len(driver.find_elements(By.CSS_SELECTOR, "#graph-canvas defs marker path")) == 3, "one arrowhead per link type"
    time.sleep(1)  # let the layout settle for the picture
    # A memory's text on hover, and on keyboard focus.
    ActionChains(driver).move_to_element(driver.find_element(By.CSS_SELECTOR, "#graph-canvas g.node[data-coord='2,0'] circle")).perform()
    wait(driver, lambda d: text_of(2) in d.find_element(By.ID, "graph-tip").text and d.find_element(By.ID, "graph-tip").is_displayed())
    ActionChains(driver).move_to_element(driver.find_element(By.ID, "graph-title")).perform()
    wait(driver, lambda d: not d.find_element(By.ID, "graph-tip").is_displayed())
    driver.execute_script("arguments[0].focus()", driver.find_element(By.CSS_SELECTOR, "#graph-canvas g.node[data-coord='5,0']"))
    wait(driver, lambda d: text_of(5) in d.find_element(By.ID, "graph-tip").text and d.find_element(By.ID, "graph-tip").is_displayed())
    shoot(driver, "graph")
    # A memory in the graph opens from the keyboard.
    node = driver.find_element(By.CSS_SELECTOR, "#graph-canvas g.node[data-coord='4,0']")
    driver.execute_script("arguments[0].focus()", node)
    node.send_keys(Keys.ENTER)
    wait(driver, lambda d: urllib.parse.unquote(d.current_url).endswith("#/memory/4,0"))
    ready(driver, "memory")

    # A token limited to alpha cannot sign in to beta; beta's token sees beta's memory only.
    sign_in(driver, server, ALPHA, "beta")
    error = wait(driver, EC.visibility_of_element_located((By.ID, "signin-error")))
    assert "namespace not allowed" in error.text and "may not act in namespace 'beta'" in error.text, error.text
    assert_signed_out(driver)
    sign_in(driver, server, BETA, "beta")
    ready(driver, "overview")
    go(driver, server, "memories", "memories")
    assert rows(driver) == ["0,0"]
    go(driver, server, "memory/0%2C0", "memory")
    assert "beta's own secret plan" in driver.find_element(By.ID, "memory-payload").text
    go(driver, server, "memory/1%2C0", "memory")
    assert "no memory at 1,0 in namespace beta" in driver.find_element(By.ID, "page-error").text
    # The namespace is the session's: asking for alpha's through the API with beta's token fails.
    assert driver.execute_script("""
        return fetch('/v1/memories/1,0', {headers: {Authorization: 'Bearer ' + sessionStorage.getItem('soma.token'), 'X-Soma-Namespace': 'alpha'}})
            .then(r => r.status)""") == 403

    check_network_and_console(driver, server)


def check_network_and_console(driver, server):
    origin = f"http://127.0.0.1:{server.port}"
    requested = set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requested.add(message["params"]["request"]["url"])
    assert requested, "the network log was read"
    foreign = {url for url in requested if not url.startswith(origin + "/") and not url.startswith("data:")}
    assert not foreign, f"the page asked other hosts: {foreign}"
    assert any(url.endswith("/console/vendor/d3.min.js") for url in requested), "d3 came from the service"
    # The errors the walk provoked on purpose (wrong token, another namespace, a missing memory)
    # are the network's; anything else, and any JavaScript error, fails.
    problems = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    expected = ("status of 401", "status of 403", "status of 404")
    unexpected = [entry for entry in problems if entry.get("source") != "network" or not any(text in entry["message"] for text in expected)]
    assert not unexpected, unexpected


def test_console_files_are_served_with_a_strict_policy(server):
    status, body = server.call("GET", "/console/", token=None)
    assert status == 200 and "<title>SomaFractalMemory console</title>" in body
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/console/vendor/d3.min.js") as response:
        assert response.headers["Content-Type"].startswith("text/javascript")
        assert "default-src 'none'" in response.headers["Content-Security-Policy"] and "connect-src 'self'" in response.headers["Content-Security-Policy"]
        assert b"d3js.org" in response.read(200)
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/console/vendor/d3.LICENSE.txt") as response:
        assert b"BSD-3-Clause" in response.read()
    assert server.call("GET", "/console/nothing-here.js", token=None)[0] == 404
    # The API behind the page still wants the token.
    assert server.call("GET", "/v1/stats", token=None)[0] == 401


def test_console_can_be_turned_off():
    off = start(SOMA_CONSOLE_ENABLED="false")
    try:
        assert off.call("GET", "/console/", token=None)[0] == 404
    finally:
        off.stop()
