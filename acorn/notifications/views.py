"""The notification centre's pages (thin: selectors read, services write)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from acorn.exceptions import NotFoundError
from acorn.models import Role
from acorn.notifications import selectors, services
from acorn.notifications.models import NotificationKind
from acorn.views import TenantViewMixin


class NotificationListView(TenantViewMixin, View):
    required_role = Role.VIEWER
    action_role = Role.VIEWER

    def get(self, request, tenant_slug):
        show_all = request.GET.get("all") == "1"
        notifications = selectors.notification_list_for_user(
            tenant=self.tenant, user=request.user, include_acknowledged=show_all)
        page = self.paginate(request, notifications)
        rows = [{"notification": n, "title": selectors.notification_title(n)} for n in page]
        return render(request, "acorn/notifications/list.html",
                      {"page": page, "rows": rows, "show_all": show_all})


class NotificationAcknowledgeView(TenantViewMixin, View):
    required_role = Role.VIEWER
    action_role = Role.VIEWER

    def post(self, request, tenant_slug, notification_id):
        try:
            notification = services.notification_acknowledge(
                tenant=self.tenant, notification_id=notification_id, actor=request.user)
        except NotFoundError:
            from django.http import Http404

            raise Http404("No such notification.") from None
        messages.success(request, _("Alert acknowledged."))
        target = request.POST.get("next") or ""
        if request.POST.get("open") and notification.url:
            target = notification.url
        if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            return redirect(target)
        return redirect("notification_list", tenant_slug=tenant_slug)


class NotificationPreferencesView(TenantViewMixin, View):
    required_role = Role.VIEWER
    action_role = Role.VIEWER

    def get(self, request, tenant_slug):
        preferences = selectors.notification_preferences_for_user(
            tenant=self.tenant, user=request.user)
        return render(request, "acorn/notifications/preferences.html",
                      {"preferences": preferences})

    def post(self, request, tenant_slug):
        wanted = {kind: {"show": request.POST.get(f"show_{kind}") == "on",
                         "email": request.POST.get(f"email_{kind}") == "on"}
                  for kind in NotificationKind.values}
        services.notification_preferences_set(tenant=self.tenant, user=request.user,
                                              preferences=wanted, actor=request.user)
        messages.success(request, _("Preferences saved."))
        return redirect("notification_preferences", tenant_slug=tenant_slug)
