"""DOT at ``/o/`` as its tutorial mounts it, Django's login view, the protected ``/api/me`` and the
harness's own read-only ``/_harness/`` views."""

from django.contrib.auth import views as auth_views
from django.urls import include, path
from oauth2_provider import views as oauth_views

from dot_server import views

urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    # RFC 8414 §3's own location for an issuer with a path (http://host/o): the metadata at the
    # root with the issuer's path appended, beside DOT's /o/.well-known/oauth-authorization-server.
    path(".well-known/oauth-authorization-server/o", oauth_views.OAuthServerMetadataView.as_view()),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("api/me", views.Me.as_view()),
    path("_harness/exchanges", views.exchanges),
]
