"""All routes. Floor 4: this module wires every app and nothing imports it."""

from importlib import import_module

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from acorn import apis, overview, views
from acorn.monitoring import health, metrics
from acorn.notifications import views as notification_views

TENANT = "t/<slug:tenant_slug>/"
# Redoc styles itself with styled-components, which inserts <style>
# elements and cannot be given a nonce from outside its bundle: the docs
# page alone allows inline styles (never inline script) and the blob:
# worker of its search.
API_DOCS_VIEW = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})(
    SpectacularRedocView.as_view(url_name="schema")
)
DOMAIN_APPS = ["inventory", "channels", "invoicing", "reconciliation"]

api_v1 = [
    path("tenant/", apis.TenantDetailApi.as_view(), name="tenant_detail"),
]
# Each app's urls.py has ``urlpatterns`` (dashboard) and ``api_urlpatterns``
# (REST); API names reverse as "api:<app>:<name>".
for app in DOMAIN_APPS:
    api_v1.append(path("", include((import_module(f"{app}.urls").api_urlpatterns, app))))

urlpatterns = [
    path("", views.RootView.as_view(), name="root"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", views.SignupView.as_view(), name="signup"),
    path("accounts/signup/sent/", views.SignupSentView.as_view(), name="signup_sent"),
    path(
        "accounts/verify/<str:uidb64>/<str:token>/",
        views.SignupVerifyView.as_view(),
        name="signup_verify",
    ),
    path(
        "invite/<slug:tenant_slug>/<str:token>/",
        views.InvitationAcceptView.as_view(),
        name="invitation_accept",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
    # Platform webhooks (public, signature-verified): web stores.
    path("hooks/", include((import_module("channels.urls").webhook_urlpatterns, "hooks"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", API_DOCS_VIEW, name="api_docs"),
    path(TENANT, overview.TenantHomeView.as_view(), name="tenant_home"),
    path(TENANT + "settings/audit/", views.AuditLogView.as_view(), name="audit_log"),
    path(TENANT + "settings/members/", views.MemberListView.as_view(), name="member_list"),
    path(TENANT + "settings/api-keys/", views.ApiKeyListView.as_view(), name="api_key_list"),
    path(TENANT + "imports/<int:job_id>/", views.ImportJobDetailView.as_view(),
         name="import_job_detail"),
    path(TENANT + "notifications/", notification_views.NotificationListView.as_view(),
         name="notification_list"),
    path(TENANT + "notifications/<int:notification_id>/acknowledge/",
         notification_views.NotificationAcknowledgeView.as_view(), name="notification_ack"),
    path(TENANT + "notifications/preferences/",
         notification_views.NotificationPreferencesView.as_view(),
         name="notification_preferences"),
]
for app in DOMAIN_APPS:
    urlpatterns.append(path(TENANT, include(f"{app}.urls", namespace=app)))

# Health probes and the Prometheus scrape (answered first by
# acorn.monitoring.middleware.HealthCheckMiddleware; listed here so they
# reverse and show in the route list).
urlpatterns += [
    path("health/live", health.live_view, name="health_live"),
    path("health/ready", health.ready_view, name="health_ready"),
    path("metrics", metrics.metrics_view, name="metrics"),
]
# Unknown URLs under /api/ answer the API's JSON error shape.
handler404 = "acorn.api.not_found"
