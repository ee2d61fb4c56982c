"""Message codes the inventory services store for people (acorn.messages):
the purchase plan's reasoning, one code per line. Registered from
``InventoryConfig.ready``."""

from django.utils.translation import gettext_noop

from acorn.messages import message_define

DEMAND_FORECAST = message_define(
    "inventory.plan.demand_forecast",
    gettext_noop("Weekly demand %(demand)s = Amazon forecast mean %(amazon)s (%(weeks)s weeks) "
                 "+ other channels' history %(other)s."),
)
DEMAND_HISTORY = message_define(
    "inventory.plan.demand_history",
    gettext_noop("Weekly demand %(demand)s = average of the last %(weeks)s weeks (no Amazon "
                 "forecast)."),
)
SAFETY_STOCK = message_define(
    "inventory.plan.safety_stock",
    gettext_noop("Variability %(sigma)s/week, lead time %(lead_days)s days: safety stock "
                 "%(safety)s = 1.645 x %(sigma)s x sqrt(%(lead_weeks)s); reorder point "
                 "%(reorder_point)s = %(demand)s x %(lead_weeks)s + %(safety)s."),
)
POSITION = message_define(
    "inventory.plan.position",
    gettext_noop("Stock position %(position)s = on hand %(on_hand)s + inbound %(inbound)s - "
                 "held %(held)s - reserved %(reserved)s."),
)
ORDER_NOW = message_define(
    "inventory.plan.order_now",
    gettext_noop("Order now: %(quantity)s = reorder point + %(weeks)s weeks of demand - "
                 "position, rounded up to the case pack %(pack)s, at least the MOQ %(moq)s."),
)
ORDER_LATER = message_define(
    "inventory.plan.order_later",
    gettext_noop("No order yet: the position reaches the reorder point in ~%(weeks)s weeks."),
)
NO_DEMAND = message_define(
    "inventory.plan.no_demand", gettext_noop("No demand: nothing to order."),
)
