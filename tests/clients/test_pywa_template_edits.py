"""pywa 4.5.0's template edits, deletion, archiving and migration against a real sandbox server on loopback, pywa
unchanged (the same setup as test_pywa.py, without the webhook receiver these calls do not need).

pywa sends archive and unarchive to `https://api.facebook.com/{waba-id}/message_templates/archive` whatever its
base URL; an httpx request hook on the test's own session sends them to the sandbox instead, as a proxy would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from pywa import WhatsApp, errors
from pywa.types import templates as t

from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.domain.waba import WhatsAppBusinessAccount
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import running_server

pytestmark = pytest.mark.server


@dataclass
class Setup:
    wa: WhatsApp
    tenant: Tenant
    sandbox_url: str


@pytest.fixture
def setup() -> Iterator[Setup]:
    sandbox = Sandbox(Settings(seed=11))
    tenant = create_tenant(
        sandbox,
        CreateTenant(name="pywa", clock=ConfigureClock(mode="frozen")),
        start=datetime(2026, 1, 5, 9, tzinfo=UTC),
    )
    document = tenant.document()
    session = httpx.Client(timeout=10)
    wa = WhatsApp(
        phone_id=document["phone_number_id"],
        token=document["access_token"],
        session=session,
        waba_id=document["waba_id"],
        api_version="23.0",
    )
    with running_server(sandbox) as sandbox_url:
        session.base_url = httpx.URL(f"{sandbox_url}/v23.0/")
        here = httpx.URL(sandbox_url)

        def to_sandbox(request: httpx.Request) -> None:
            if request.url.host == "api.facebook.com":
                request.url = request.url.copy_with(scheme=here.scheme, host=here.host, port=here.port)

        session.event_hooks["request"] = [to_sandbox]
        yield Setup(wa, tenant, sandbox_url)
        session.close()


def seasonal(name: str = "seasonal_promotion") -> t.Template:
    return t.Template(
        name=name,
        category=t.TemplateCategory.MARKETING,
        language=t.TemplateLanguage.ENGLISH_US,
        components=[t.BodyText("Shop now through {{1}} and save 25% on plants.", "the end of August")],
    )


def force(setup: Setup, template_id: str, decision: str = "APPROVED") -> None:
    body = {"kind": "template", "target": template_id, "decision": decision}
    response = httpx.post(f"{setup.sandbox_url}/_sandbox/tenants/pywa/reviews", json=body)
    assert response.status_code == 200, response.text


def status(setup: Setup, template_id: str) -> str:
    return setup.tenant.store.templates.get(template_id).status


def test_pywa_updates_a_template_and_is_refused_while_it_is_in_review(setup: Setup) -> None:
    wa = setup.wa
    created = wa.create_template(template=seasonal())
    body = t.BodyText("Shop until {{1}} and save 30% on plants.", "Sunday")
    with pytest.raises(errors.WhatsAppError) as pending:
        wa.update_template(created.id, new_components=[body])
    assert pending.value.code == 100
    force(setup, created.id)
    updated = wa.update_template(created.id, new_components=[body])
    assert updated and updated.id == created.id and status(setup, created.id) == "PENDING"
    force(setup, created.id)
    with pytest.raises(errors.WhatsAppError) as again:
        wa.update_template(created.id, new_components=[t.BodyText("Shop until {{1}} today.", "Sunday")])
    assert again.value.code == 80012


def test_pywa_archives_unarchives_and_deletes_templates(setup: Setup) -> None:
    wa = setup.wa
    kept, dropped = wa.create_template(template=seasonal()), wa.create_template(template=seasonal("old_promotion"))
    force(setup, kept.id)
    archived = wa.archive_templates([kept.id, dropped.id])
    assert archived.archived == (kept.id,) and set(archived.failed) == {dropped.id}
    assert status(setup, kept.id) == "ARCHIVED"
    assert wa.unarchive_templates([kept.id]).unarchived == (kept.id,)
    assert status(setup, kept.id) == "APPROVED"
    assert wa.delete_template("old_promotion", template_id=dropped.id)
    assert status(setup, dropped.id) == "PENDING_DELETION"
    assert wa.delete_template("seasonal_promotion")
    assert status(setup, kept.id) == "PENDING_DELETION"
    with pytest.raises(errors.WhatsAppError) as unknown:
        wa.delete_template("no_such_template")
    assert unknown.value.code == 100


def test_pywa_migrates_templates_to_another_waba_of_the_business(setup: Setup) -> None:
    tenant, wa = setup.tenant, setup.wa
    created = wa.create_template(template=seasonal())
    force(setup, created.id)
    own = tenant.store.wabas.get(tenant.waba_id)
    # The control-plane route for a second WABA is not built yet: the store holds it directly.
    destination = WhatsAppBusinessAccount(id=tenant.ids.node_id(), name="Second", business_id=own.business_id)
    tenant.store.wabas.add(destination.id, destination)
    answer = wa.api.migrate_templates(dest_waba_id=destination.id, source_waba_id=tenant.waba_id, page_number=0)
    names = sorted(tenant.store.templates.get(template_id).name for template_id in answer["migrated_templates"])
    assert names == ["hello_world", "seasonal_promotion"] and answer["failed_templates"] == {}
