"""Message codes the channels services store for people (acorn.messages).

Registered from ``ChannelsConfig.ready``; each template's parameters are
stored with the code and the English text, and translated when shown.
"""

from django.utils.translation import gettext_noop

from acorn.messages import message_define

# --- Acknowledgement plan notes (PurchaseOrderLine.plan_note) -------------
PLAN_CANCELLED = message_define("channels.plan.cancelled", gettext_noop("Cancelled by Amazon."))
PLAN_INACTIVE = message_define("channels.plan.inactive", gettext_noop("%(sku)s is inactive."))
PLAN_AVAILABLE = message_define(
    "channels.plan.available",
    gettext_noop("%(free)s available (%(units)s per ordered unit)."),
)
PLAN_EDITED = message_define("channels.plan.edited", gettext_noop("Edited by hand."))

# --- Work-queue exceptions (ChannelException.message) ----------------------
UNMAPPED_LINE = message_define(
    "channels.exception.unmapped_line",
    gettext_noop("PO %(po)s line %(line)s: no SKU mapping for ASIN %(asin)s / vendor product "
                 "%(vendor_product)s."),
)
REAUTH_NEEDED = message_define(
    "channels.exception.reauth_needed",
    gettext_noop("Amazon refused the stored credentials of %(account)s (%(error)s); authorise "
                 "the application again and save the new credentials."),
)
SECRET_EXPIRING = message_define(
    "channels.exception.secret_expiring",
    gettext_noop("The LWA client secret of %(account)s must be rotated by %(due)s (%(days)s "
                 "days); rotate it in the Developer Console and save the new secret."),
)
SECRET_EXPIRED = message_define(
    "channels.exception.secret_expired",
    gettext_noop("The LWA client secret of %(account)s expired on %(due)s; calls will fail."),
)
ACK_OVERDUE = message_define(
    "channels.exception.ack_overdue",
    gettext_noop("PO %(po)s: acknowledgement overdue since %(deadline)s UTC."),
)
ACK_DUE = message_define(
    "channels.exception.ack_due",
    gettext_noop("PO %(po)s: acknowledge before %(deadline)s UTC."),
)
SYNC_FAILED = message_define(
    "channels.exception.sync_failed",
    gettext_noop("%(kind_label)s sync of %(account)s failed: %(error)s"),
)
SYNC_NEVER_FINISHED = message_define(
    "channels.exception.sync_never_finished",
    gettext_noop("%(kind_label)s run of %(account)s never finished: still running %(seconds)s s "
                 "after it started; its time limit is %(limit)s s. The worker was killed or "
                 "lost (a crash, a deploy, an outage); the next scheduled run starts afresh."),
)
SHORTAGE = message_define(
    "channels.exception.shortage",
    gettext_noop("PO %(po)s line %(line)s: Amazon received %(received)s of %(shipped)s shipped "
                 "(%(short)s short)."),
)
SUBMISSION_REJECTED = message_define(
    "channels.exception.submission_rejected",
    gettext_noop("%(submission)s rejected by Amazon: %(error)s"),
)
SUBMISSION_STALE = message_define(
    "channels.exception.submission_stale",
    gettext_noop("%(submission)s still processing at Amazon since %(sent)s UTC."),
)
SUBMISSION_OUTCOME_UNKNOWN = message_define(
    "channels.exception.submission_outcome_unknown",
    gettext_noop("%(submission)s: the answer to the POST was lost; reconciling with Amazon."),
)
API_UNHEALTHY = message_define(
    "channels.exception.api_unhealthy",
    gettext_noop("Amazon API unhealthy on %(account)s: %(success)s%% of %(calls)s calls "
                 "succeeded (minimum %(min_success)s%%), %(throttled)s%% of attempts throttled "
                 "(maximum %(max_throttled)s%%) in the last %(minutes)s minutes."),
)
TASK_FAILED = message_define(
    "channels.exception.task_failed",
    gettext_noop("Background task %(task)s failed: %(error)s"),
)
