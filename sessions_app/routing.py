from django.urls import re_path

from sessions_app.consumers import LiveConsumer

websocket_urlpatterns = [
    re_path(r"^ws/?$", LiveConsumer.as_asgi()),
]
