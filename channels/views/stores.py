"""Web stores: connections (admins), locations, listings review, store
orders, sync log and health, and the public webhook endpoint.

Secrets are write-only: password inputs that never render a value, marked
sensitive so error pages never show them; the services encrypt and audit.
"""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import Role, Tenant
from acorn.tenancy import tenant_scope
from acorn.views import TenantViewMixin
from channels.models import ListingMatch, StoreConnectionStatus, StoreOrderStatus, StorePlatform
from channels.selectors import stores as selectors
from channels.services import stores as services
from channels.stores.adapter import InvalidSignature, Platform, StoreError
from channels.stores.registry import CREDENTIAL_KEYS

logger = logging.getLogger(__name__)

SECRET_NAMES = sorted({key for keys in CREDENTIAL_KEYS.values() for key in keys})
SECRET_LABELS = {
    "access_token": _("Access token (Shopify shpat_…, Magento access token, BigCommerce "
                      "X-Auth-Token)"),
    "client_id": _("Client id (Shopify client-credentials app)"),
    "client_secret": _("Client secret (Shopify app; BigCommerce webhook signing)"),
    "consumer_key": _("Consumer key (Magento integration)"),
    "consumer_secret": _("Consumer secret (Magento integration)"),
    "access_token_secret": _("Access token secret (Magento integration)"),
    "store_hash": _("Store hash (BigCommerce)"),
    "webhook_secret": _("Webhook secret"),
}
SECRET_HELP = _("Write-only: leave blank to keep the stored value.")
sensitive_secrets = method_decorator(sensitive_post_parameters(*SECRET_NAMES), name="dispatch")


def _secret_field(name: str):
    return forms.CharField(
        required=False, label=SECRET_LABELS[name], help_text=SECRET_HELP, max_length=4000,
        strip=True, widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


class StoreConnectionForm(forms.Form):
    platform = forms.ChoiceField(choices=StorePlatform.choices, label=_("Platform"))
    name = forms.CharField(max_length=100, label=_("Name"))
    shop_url = forms.URLField(
        label=_("Store API base URL"), assume_scheme="https",
        help_text=_("Shopify: https://<shop>.myshopify.com; BigCommerce: "
                    "https://api.bigcommerce.com; Magento: your store's HTTPS address. Other "
                    "hosts only when ACORN_STORE_ENDPOINT_ALLOWLIST allows them. Changing it "
                    "requires every secret again."))
    api_version = forms.CharField(max_length=20, required=False, label=_("API version"))
    channel_name = forms.CharField(
        max_length=40, required=False, label=_("Buffer rules channel"),
        help_text=_("The channel whose buffer rules apply: blank = \"store:<connection id>\" "
                    "(rules for this store alone), or e.g. \"web_store\" shared by stores."))
    order_poll_interval_minutes = forms.IntegerField(min_value=1, max_value=1440, initial=5,
                                                     label=_("Order poll interval (minutes)"))
    reconcile_interval_minutes = forms.IntegerField(min_value=5, max_value=10080, initial=60,
                                                    label=_("Reconciliation interval (minutes)"))
    status = forms.ChoiceField(choices=StoreConnectionStatus.choices, initial="active",
                               label=_("Status"))

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SECRET_NAMES:
            self.fields[name] = _secret_field(name)
        if editing:
            del self.fields["platform"]

    def secrets(self, platform: str) -> dict:
        allowed = CREDENTIAL_KEYS[Platform(platform)]
        return {name: self.cleaned_data.get(name, "") for name in allowed
                if self.cleaned_data.get(name)}

    def settings_data(self) -> dict:
        return {key: self.cleaned_data[key] for key in (
            "name", "shop_url", "api_version", "channel_name", "order_poll_interval_minutes",
            "reconcile_interval_minutes", "status")}


class AdminMixin(TenantViewMixin):
    required_role = Role.ADMIN
    action_role = Role.ADMIN

    def _connection(self, connection_id):
        connection = selectors.store_connection_get(tenant=self.tenant,
                                                    connection_id=connection_id)
        if connection is None:
            raise Http404("No such store connection.")
        return connection


def _service_error(form, error: ApplicationError) -> None:
    field = error.extra.get("field") if isinstance(error.extra, dict) else None
    form.add_error(field if field in form.fields else None, error.message)


class StoreConnectionListView(AdminMixin, View):
    def get(self, request, tenant_slug):
        return render(request, "channels/stores/connection_list.html",
                      {"connections": selectors.store_connection_list(tenant=self.tenant)})


@sensitive_secrets
class StoreConnectionCreateView(AdminMixin, View):
    def get(self, request, tenant_slug, form=None):
        return render(request, "channels/stores/connection_form.html",
                      {"form": form or StoreConnectionForm(), "connection": None})

    @sensitive_variables()
    def post(self, request, tenant_slug):
        form = StoreConnectionForm(request.POST)
        if form.is_valid():
            data = form.settings_data()
            try:
                connection = services.connection_create(
                    tenant=self.tenant, platform=form.cleaned_data["platform"],
                    secrets=form.secrets(form.cleaned_data["platform"]), actor=request.user,
                    **data,
                )
            except ApplicationError as error:
                _service_error(form, error)
            else:
                messages.success(request, _("Store connection saved. Test it, then map its "
                                            "locations."))
                return redirect("channels:store_edit", tenant_slug=tenant_slug,
                                connection_id=connection.pk)
        return self.get(request, tenant_slug, form=form)


@sensitive_secrets
class StoreConnectionEditView(AdminMixin, View):
    def get(self, request, tenant_slug, connection_id, form=None):
        connection = self._connection(connection_id)
        initial = {key: getattr(connection, key) for key in (
            "name", "shop_url", "api_version", "channel_name", "order_poll_interval_minutes",
            "reconcile_interval_minutes", "status")}
        return render(request, "channels/stores/connection_form.html", {
            "form": form or StoreConnectionForm(initial=initial, editing=True),
            "connection": connection,
            "locations": selectors.store_location_list(tenant=self.tenant,
                                                       connection=connection),
            "runs": selectors.store_sync_run_list(tenant=self.tenant,
                                                  connection=connection)[:10],
            "webhook_url": request.build_absolute_uri(reverse(
                "hooks:store_webhook",
                kwargs={"tenant_slug": tenant_slug, "connection_id": connection.pk})),
        })

    @sensitive_variables()
    def post(self, request, tenant_slug, connection_id):
        connection = self._connection(connection_id)
        form = StoreConnectionForm(request.POST, editing=True)
        if form.is_valid():
            try:
                services.connection_update(
                    tenant=self.tenant, connection_id=connection.pk, data=form.settings_data(),
                    secrets=form.secrets(connection.platform), actor=request.user)
            except ApplicationError as error:
                _service_error(form, error)
            else:
                messages.success(request, _("Store connection saved."))
                return redirect("channels:store_edit", tenant_slug=tenant_slug,
                                connection_id=connection.pk)
        return self.get(request, tenant_slug, connection_id, form=form)


class StoreConnectionActionView(AdminMixin, View):
    """POST-only actions: test, import listings, push now, reconcile now."""

    def post(self, request, tenant_slug, connection_id, action):
        connection = self._connection(connection_id)
        try:
            if action == "test":
                connection = services.connection_test(
                    tenant=self.tenant, connection_id=connection.pk, actor=request.user)
                level = messages.success if connection.last_connection_test_ok else messages.error
                level(request, connection.last_connection_test_detail)
            elif action == "import-listings":
                counts = services.listings_import(tenant=self.tenant,
                                                  connection_id=connection.pk,
                                                  actor=request.user)
                messages.success(request, _("%(seen)d items read: %(matched)d matched, "
                                            "%(review)d to review.") % counts)
            elif action == "reconcile":
                counts = services.store_connection_reconcile(tenant=self.tenant,
                                                             connection_id=connection.pk)
                messages.success(request, _("Reconciled: %(drift)d listings had drifted, "
                                            "%(applied)d written.") % counts.as_dict())
            elif action == "poll-orders":
                counts = services.store_orders_poll(tenant=self.tenant,
                                                    connection_id=connection.pk)
                messages.success(request, _("%(orders)d orders read.") % counts)
            else:
                raise Http404("No such action.")
        except (ApplicationError, StoreError) as error:
            messages.error(request, getattr(error, "message", str(error)))
        return redirect("channels:store_edit", tenant_slug=tenant_slug,
                        connection_id=connection.pk)


class StoreLocationsView(AdminMixin, View):
    def get(self, request, tenant_slug, connection_id):
        from inventory.selectors import warehouse_list

        connection = self._connection(connection_id)
        return render(request, "channels/stores/locations.html", {
            "connection": connection,
            "locations": selectors.store_location_list(tenant=self.tenant,
                                                       connection=connection),
            "warehouses": warehouse_list(tenant=self.tenant),
        })

    def post(self, request, tenant_slug, connection_id):
        connection = self._connection(connection_id)
        mappings = {}
        primary = request.POST.get("primary", "")
        for location in selectors.store_location_list(tenant=self.tenant,
                                                      connection=connection):
            raw = request.POST.get(f"warehouse_{location.pk}", "")
            mappings[location.pk] = {"warehouse_id": int(raw) if raw.isdigit() else None,
                                     "is_primary": primary == str(location.pk)}
        try:
            services.location_mapping_set(tenant=self.tenant, connection_id=connection.pk,
                                          mappings=mappings, actor=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Locations saved."))
        return redirect("channels:store_locations", tenant_slug=tenant_slug,
                        connection_id=connection.pk)


class ListingFilterForm(forms.Form):
    connection = forms.IntegerField(required=False, widget=forms.HiddenInput)
    match_state = forms.ChoiceField(required=False, label=_("Match"),
                                    choices=[("", _("Any"))] + ListingMatch.choices)
    review = forms.BooleanField(required=False, label=_("Only to review"))


class ListingListView(TenantViewMixin, View):
    required_role = Role.VIEWER
    action_role = Role.ADMIN

    def get(self, request, tenant_slug):
        from inventory.selectors import product_list

        form = ListingFilterForm(request.GET)
        filters = form.cleaned_data if form.is_valid() else {}
        page = self.paginate(request, selectors.listing_list(tenant=self.tenant,
                                                             filters=filters))
        return render(request, "channels/stores/listing_list.html", {
            "form": form, "page": page,
            "products": product_list(tenant=self.tenant)[:500],
        })


class ListingReviewView(TenantViewMixin, View):
    required_role = Role.ADMIN
    action_role = Role.ADMIN

    def post(self, request, tenant_slug, listing_id):
        raw = request.POST.get("product", "")
        try:
            services.listing_review(
                tenant=self.tenant, listing_id=listing_id, action=request.POST.get("action", ""),
                product_id=int(raw) if raw.isdigit() else None, actor=request.user)
        except NotFoundError as error:
            raise Http404(error.message) from None
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Listing updated."))
        target = reverse("channels:store_listing_list", kwargs={"tenant_slug": tenant_slug})
        return redirect(target + ("?review=on" if request.POST.get("review") else ""))


class StoreOrderFilterForm(forms.Form):
    connection = forms.IntegerField(required=False, widget=forms.HiddenInput)
    status = forms.ChoiceField(required=False, label=_("Status"),
                               choices=[("", _("Any"))] + StoreOrderStatus.choices)


class StoreOrderListView(TenantViewMixin, View):
    required_role = Role.VIEWER

    def get(self, request, tenant_slug):
        form = StoreOrderFilterForm(request.GET)
        filters = form.cleaned_data if form.is_valid() else {}
        page = self.paginate(request, selectors.store_order_list(tenant=self.tenant,
                                                                 filters=filters))
        return render(request, "channels/stores/order_list.html", {"form": form, "page": page})


class StoreSyncLogView(TenantViewMixin, View):
    required_role = Role.VIEWER

    def get(self, request, tenant_slug, connection_id):
        connection = selectors.store_connection_get(tenant=self.tenant,
                                                    connection_id=connection_id)
        if connection is None:
            raise Http404("No such store connection.")
        return render(request, "channels/stores/sync_log.html", {
            "connection": connection,
            "page": self.paginate(request, selectors.store_sync_run_list(
                tenant=self.tenant, connection=connection)),
            "events": selectors.store_webhook_event_list(tenant=self.tenant,
                                                         connection=connection)[:50],
        })


@method_decorator(csrf_exempt, name="dispatch")
class StoreWebhookView(View):
    """Public: the platform posts here; the adapter verifies the signature.

    401 for a bad signature, 200 for a stored or duplicate delivery (a
    platform retries anything else), 404 for an unknown tenant/connection.
    Processing happens on the ``stores`` queue, in order.
    """

    http_method_names = ["post"]

    def post(self, request, tenant_slug, connection_id):
        tenant = Tenant.objects.filter(slug=tenant_slug, is_active=True).first()
        if tenant is None:
            raise Http404("No such store.")
        raw_body = request.body
        headers = {key: value for key, value in request.headers.items()}
        try:
            with tenant_scope(tenant):
                if selectors.store_connection_get(tenant=tenant,
                                                  connection_id=connection_id) is None:
                    raise Http404("No such store.")
                event = services.webhook_receive(tenant=tenant, connection_id=connection_id,
                                                 headers=headers, raw_body=raw_body)
        except InvalidSignature:
            return HttpResponse(status=401)
        except (StoreError, ApplicationError, ValueError, KeyError) as error:
            logger.warning("store webhook for %s refused: %s", connection_id, error)
            return HttpResponse(status=400)
        if event is not None:
            from acorn.queues import Queue
            from channels.tasks.stores import store_webhooks_process_task

            if request_can_enqueue():
                transaction.on_commit(lambda: store_webhooks_process_task.apply_async(
                    kwargs={"tenant_id": tenant.pk, "connection_id": connection_id},
                    queue=Queue.STORES))
        return HttpResponse(status=200)


def request_can_enqueue() -> bool:
    """The on-commit trigger's switch also covers webhook processing."""
    from django.conf import settings

    return settings.ACORN_STORE_PUSH_ON_COMMIT
