from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.models import ApiToken


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    role = serializers.CharField()
    language = serializers.CharField()
    token_read_only = serializers.BooleanField(allow_null=True)


class MeView(APIView):
    """Who the caller is: lets an integration check its token and its scope."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user: Any = request.user
        token = request.auth if isinstance(request.auth, ApiToken) else None
        data = {
            "id": user.pk,
            "username": user.username,
            "full_name": user.get_full_name(),
            "role": user.role,
            "language": user.language,
            "token_read_only": token.read_only if token else None,
        }
        return Response(MeSerializer(data).data)
