"""The Graph surface: one route table collected from each module."""

from sandbox.api import (
    accounts,
    block_users,
    media,
    message_templates,
    messages,
    phone_numbers,
    settings,
    subscribed_apps,
    whatsapp_business_profile,
)
from sandbox.api.graph import GraphRoute, GraphRouter

ROUTES: list[GraphRoute] = [
    *messages.routes,
    *phone_numbers.routes,
    *media.routes,
    *accounts.routes,
    *message_templates.routes,
    *subscribed_apps.routes,
    *whatsapp_business_profile.routes,
    *settings.routes,
    *block_users.routes,
]


def graph_router() -> GraphRouter:
    return GraphRouter(ROUTES)
