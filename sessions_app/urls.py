from django.urls import include, path

from sessions_app import views

urlpatterns = [
    path("", views.join, name="join"),
    path("host/", views.host_dashboard, name="host_dashboard"),
    path("", include("sessions_app.results_urls")),
]
