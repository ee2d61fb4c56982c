"""Data retention (admins): the retention setting, the archive list,
downloads and retries of failed archive runs."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views import View

from acorn.exceptions import ApplicationError, NotFoundError
from acorn.models import DATA_RETENTION_MAX_DAYS, DATA_RETENTION_MIN_DAYS, Role
from acorn.services import tenant_retention_update
from acorn.views import TenantViewMixin
from channels.models import ArchiveStatus
from channels.selectors.archives import archive_run_get, archive_run_list
from channels.services.archives import archive_run_retry_request, archive_storage


class RetentionForm(forms.Form):
    data_retention_days = forms.IntegerField(
        label=_("Keep operational history for (days)"),
        min_value=DATA_RETENTION_MIN_DAYS, max_value=DATA_RETENTION_MAX_DAYS,
        help_text=_(
            "Amazon API calls, sync runs and purchase order events older than this are "
            "exported to a downloadable archive and removed from the database. "
            "The audit log is never archived."
        ),
    )


class AdminMixin(TenantViewMixin):
    required_role = Role.ADMIN
    action_role = Role.ADMIN


class ArchiveListView(AdminMixin, View):
    def get(self, request, tenant_slug, form=None):
        form = form or RetentionForm(
            initial={"data_retention_days": self.tenant.data_retention_days}
        )
        return render(request, "channels/archive_list.html", {
            "form": form,
            "page": self.paginate(request, archive_run_list(tenant=self.tenant)),
            "completed": ArchiveStatus.COMPLETED, "failed": ArchiveStatus.FAILED,
        })

    def post(self, request, tenant_slug):
        if "retry" in request.POST:
            try:
                run_id = int(request.POST["retry"])
                archive_run_retry_request(tenant=self.tenant, run_id=run_id, actor=request.user)
            except (ValueError, NotFoundError):
                raise Http404("No such archive.") from None
            except ApplicationError as error:
                messages.error(request, error.message)
                return redirect("channels:archive_list", tenant_slug=tenant_slug)
            messages.success(request, _("The archive will be retried in a moment."))
            return redirect("channels:archive_list", tenant_slug=tenant_slug)
        form = RetentionForm(request.POST)
        if not form.is_valid():
            return self.get(request, tenant_slug, form=form)
        tenant_retention_update(
            tenant=self.tenant, data_retention_days=form.cleaned_data["data_retention_days"],
            actor=request.user,
        )
        messages.success(request, _("Data retention saved."))
        return redirect("channels:archive_list", tenant_slug=tenant_slug)


class ArchiveDownloadView(AdminMixin, View):
    def get(self, request, tenant_slug, run_id):
        run = archive_run_get(tenant=self.tenant, run_id=run_id)
        if run is None or not run.file_name:
            raise Http404("No such archive.")
        handle = archive_storage().open(run.file_name, "rb")
        return FileResponse(
            handle, as_attachment=True, filename=run.file_name.rsplit("/", 1)[-1],
            content_type="application/gzip",
        )
