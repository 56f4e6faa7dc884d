"""Small stateful tool environments for multi-step training tasks (ours, not BFCL's: BFCL is the test set).

Four environments, each a class whose public methods are its tools (the shape TRL's `environment_factory` wants:
type hints and Google-style docstrings, from which `transformers.utils.get_json_schema` builds the tool schema):

| name       | state                                 | tools                                                   |
|------------|---------------------------------------|---------------------------------------------------------|
| `todo`     | items {id, title, done}               | find_item, add_item, complete_item, delete_item         |
| `shop`     | stock, prices, cart, orders           | check_stock, add_to_cart, checkout                      |
| `files`    | a flat map path -> file text or None  | list_dir, make_dir, move_file, read_file                |
| `calendar` | events {id, title, day}               | find_event, move_event, cancel_event                    |

Every tool returns a JSON string and raises `ValueError` on a bad request (TRL turns that into an error result; our
eval loop writes "Error: ..."). Each call is logged in `_log` as (name, arguments, result or error), which the
outcome reward reads. `reset(task=...)` loads a task's initial state (TRL calls it with the dataset row).

Example:
    >>> env = make("todo")
    >>> _ = env.reset(task='{"initial_state": {"items": [{"id": 4, "title": "buy milk", "done": false}]}}')
    >>> env.find_item(title="buy milk")
    '{"id": 4}'
    >>> env.complete_item(item_id=4)
    '{"id": 4, "done": true}'
    >>> env._state()["items"]
    [{'id': 4, 'title': 'buy milk', 'done': True}]
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from typing import Any


def _tool(fn: Callable[..., Any]) -> Callable[..., str]:
    """Log each call and its JSON result (or the error, re-raised) on the instance."""

    @functools.wraps(fn)
    def wrapper(self: ToolEnv, **kwargs: Any) -> str:
        try:
            result = json.dumps(fn(self, **kwargs))
        except (ValueError, TypeError) as e:  # a bad request, or arguments the tool does not take
            self._log.append({"name": fn.__name__, "arguments": kwargs, "error": str(e)})
            raise
        self._log.append({"name": fn.__name__, "arguments": kwargs, "result": result})
        return result

    return wrapper


class ToolEnv:
    """Base: state as one JSON-able dict, a call log, `reset` from a task row."""

    name = ""

    def __init__(self) -> None:
        self._s: dict[str, Any] = {}
        self._log: list[dict[str, Any]] = []
        self._task: dict[str, Any] = {}

    def reset(self, task: str | dict[str, Any] | None = None, **_: Any) -> None:
        """Load the task's initial state (TRL calls this with every column of the dataset row)."""
        self._task = json.loads(task) if isinstance(task, str) else dict(task or {})
        self._s = copy.deepcopy(self._task.get("initial_state", {}))
        self._log = []

    def _state(self) -> dict[str, Any]:
        return copy.deepcopy(self._s)


class TodoEnv(ToolEnv):
    name = "todo"

    def _item(self, item_id: int) -> dict[str, Any]:
        for item in self._s.setdefault("items", []):
            if item["id"] == item_id:
                return item
        raise ValueError(f"no item with id {item_id}")

    @_tool
    def find_item(self, title: str) -> dict:
        """Find a to-do item by its title.

        Args:
            title: The exact title of the item.
        """
        for item in self._s.setdefault("items", []):
            if item["title"] == title:
                return {"id": item["id"]}
        raise ValueError(f"no item titled {title!r}")

    @_tool
    def add_item(self, title: str) -> dict:
        """Add a new to-do item; returns its id.

        Args:
            title: The title of the new item.
        """
        items = self._s.setdefault("items", [])
        new_id = max((i["id"] for i in items), default=0) + 1
        items.append({"id": new_id, "title": title, "done": False})
        return {"id": new_id}

    @_tool
    def complete_item(self, item_id: int) -> dict:
        """Mark a to-do item as done.

        Args:
            item_id: The id of the item.
        """
        self._item(item_id)["done"] = True
        return {"id": item_id, "done": True}

    @_tool
    def delete_item(self, item_id: int) -> dict:
        """Delete a to-do item.

        Args:
            item_id: The id of the item.
        """
        self._s["items"].remove(self._item(item_id))
        return {"deleted": item_id}


class ShopEnv(ToolEnv):
    name = "shop"

    @_tool
    def check_stock(self, product: str) -> dict:
        """How many units of a product are in stock, and its price.

        Args:
            product: The product name.
        """
        if product not in self._s.get("stock", {}):
            raise ValueError(f"unknown product {product!r}")
        return {"product": product, "in_stock": self._s["stock"][product], "price": self._s["prices"][product]}

    @_tool
    def add_to_cart(self, product: str, quantity: int) -> dict:
        """Put units of a product in the cart.

        Args:
            product: The product name.
            quantity: How many units to add.
        """
        stock = self._s.get("stock", {})
        if product not in stock:
            raise ValueError(f"unknown product {product!r}")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise ValueError("quantity must be a positive integer")
        cart = self._s.setdefault("cart", {})
        if cart.get(product, 0) + quantity > stock[product]:
            raise ValueError(f"only {stock[product]} {product} in stock")
        cart[product] = cart.get(product, 0) + quantity
        return {"cart": cart}

    @_tool
    def checkout(self) -> dict:
        """Buy everything in the cart; returns the order id and total."""
        cart = self._s.get("cart") or {}
        if not cart:
            raise ValueError("the cart is empty")
        total = round(sum(self._s["prices"][p] * q for p, q in cart.items()), 2)
        for p, q in cart.items():
            self._s["stock"][p] -= q
        orders = self._s.setdefault("orders", [])
        orders.append({"id": len(orders) + 1, "items": dict(sorted(cart.items())), "total": total})
        self._s["cart"] = {}
        return {"order_id": len(orders), "total": total}


class FilesEnv(ToolEnv):
    name = "files"

    def _files(self) -> dict[str, Any]:
        return self._s.setdefault("files", {})

    @_tool
    def list_dir(self, path: str) -> dict:
        """List the entries directly inside a folder.

        Args:
            path: The folder, e.g. "/docs".
        """
        files = self._files()
        if path != "/" and files.get(path, "") is not None:
            raise ValueError(f"no folder {path!r}")
        prefix = path.rstrip("/") + "/"
        inside = [p[len(prefix) :] for p in files if p.startswith(prefix)]
        return {"entries": sorted(p for p in inside if "/" not in p)}

    @_tool
    def make_dir(self, path: str) -> dict:
        """Create a folder.

        Args:
            path: The new folder, e.g. "/docs/old".
        """
        files = self._files()
        if path in files:
            raise ValueError(f"{path!r} already exists")
        parent = path.rsplit("/", 1)[0] or "/"
        if parent != "/" and files.get(parent, "") is not None:
            raise ValueError(f"no folder {parent!r}")
        files[path] = None
        return {"created": path}

    @_tool
    def move_file(self, source: str, folder: str) -> dict:
        """Move a file into a folder.

        Args:
            source: The file path, e.g. "/notes.txt".
            folder: The destination folder, e.g. "/docs".
        """
        files = self._files()
        if not isinstance(files.get(source), str):
            raise ValueError(f"no file {source!r}")
        if folder != "/" and files.get(folder, "") is not None:
            raise ValueError(f"no folder {folder!r}")
        target = folder.rstrip("/") + "/" + source.rsplit("/", 1)[1]
        if target in files:
            raise ValueError(f"{target!r} already exists")
        files[target] = files.pop(source)
        return {"moved_to": target}

    @_tool
    def read_file(self, path: str) -> dict:
        """Read a file's text.

        Args:
            path: The file path.
        """
        text = self._files().get(path)
        if not isinstance(text, str):
            raise ValueError(f"no file {path!r}")
        return {"text": text}


class CalendarEnv(ToolEnv):
    name = "calendar"

    def _event(self, event_id: int) -> dict[str, Any]:
        for ev in self._s.setdefault("events", []):
            if ev["id"] == event_id:
                return ev
        raise ValueError(f"no event with id {event_id}")

    @_tool
    def find_event(self, title: str) -> dict:
        """Find an event by its title; returns its id and day.

        Args:
            title: The exact title of the event.
        """
        for ev in self._s.setdefault("events", []):
            if ev["title"] == title:
                return {"id": ev["id"], "day": ev["day"]}
        raise ValueError(f"no event titled {title!r}")

    @_tool
    def move_event(self, event_id: int, day: str) -> dict:
        """Move an event to another day.

        Args:
            event_id: The id of the event.
            day: The new day, e.g. "Friday".
        """
        self._event(event_id)["day"] = day
        return {"id": event_id, "day": day}

    @_tool
    def cancel_event(self, event_id: int) -> dict:
        """Cancel (delete) an event.

        Args:
            event_id: The id of the event.
        """
        self._s["events"].remove(self._event(event_id))
        return {"cancelled": event_id}


ENVIRONMENTS: dict[str, type[ToolEnv]] = {c.name: c for c in (TodoEnv, ShopEnv, FilesEnv, CalendarEnv)}


def make(name: str) -> ToolEnv:
    """A fresh environment by name; KeyError for an unknown one."""
    return ENVIRONMENTS[name]()


def tool_methods(env: ToolEnv) -> dict[str, Callable[..., str]]:
    """The tools of an environment (its public methods but `reset`), as TRL lists them: by name."""
    cls = type(env)
    return {n: getattr(env, n) for n in sorted(vars(cls)) if not n.startswith("_") and n != "reset"
            and callable(getattr(cls, n)) and n != "name"}  # fmt: skip


def tool_schemas(name: str) -> list[dict[str, Any]]:
    """The tool list shown in the prompt: `get_json_schema(method)["function"]` for each tool, by name."""
    from transformers.utils import get_json_schema

    return [get_json_schema(m)["function"] for m in tool_methods(make(name)).values()]
