"""A row's secondary actions (Edit, Details, Delete, Discard partial, Remove) are the items of
its More menu (DESIGN.md 4: the buttons keep their text, aria-label and data-action); a test
opens the menu as a person does before it uses one."""

from __future__ import annotations

from playwright.sync_api import Locator, expect


def more_button(row: Locator) -> Locator:
    return row.locator('button[aria-haspopup="menu"]')


def menu_item(row: Locator, action: str) -> Locator:
    """The row's menu item for ``action``, its More menu opened (a click on More)."""
    item = row.locator(f'[role="menu"] [role="menuitem"][data-action="{action}"]')
    if not item.is_visible():
        more_button(row).click()
    expect(item).to_be_visible()
    return item
