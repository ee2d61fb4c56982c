"""Kernel endpoints for BI tools."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from acorn.api import TenantAPIView


class TenantDetailApi(TenantAPIView):
    """The tenant this API key belongs to."""

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        slug = serializers.CharField()
        name = serializers.CharField()
        timezone = serializers.CharField()
        default_currency = serializers.CharField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        return Response(self.OutputSerializer(self.tenant).data)
