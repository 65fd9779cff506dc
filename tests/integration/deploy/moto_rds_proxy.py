"""RDS Proxy resources for moto's CloudFormation, made through moto's own RDS API.

moto's RDS backend implements ``CreateDBProxy`` and ``RegisterDBProxyTargets``, but its CloudFormation knows no
``AWS::RDS::DBProxy`` or ``AWS::RDS::DBProxyTargetGroup``: a stack with them fails while moto resolves the
outputs. These two adapters let a rehearsal with ``UseRdsProxy=true`` create the proxy the way CloudFormation
would, so the functions' ``DATABASE_URL`` and the IAM policy get the real (moto) proxy endpoint and ARN. They
validate what moto's RDS API validates (the subnets exist and share a VPC, the targets exist), nothing more.
Importing this module registers them.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel
from moto.rds.models import DBProxy, rds_backends

__all__ = ["CloudFormationDBProxy", "CloudFormationDBProxyTargetGroup"]


class CloudFormationDBProxy(CloudFormationModel):
    """``AWS::RDS::DBProxy``: attributes ``Endpoint``, ``DBProxyArn`` and ``VpcId`` as CloudFormation gives them."""

    def __init__(self, proxy: DBProxy) -> None:
        self.proxy = proxy

    @staticmethod
    def cloudformation_name_type() -> str:
        return "DBProxyName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::RDS::DBProxy"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Endpoint", "DBProxyArn", "VpcId")

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return {"Endpoint": self.proxy.endpoint, "DBProxyArn": self.proxy.arn, "VpcId": self.proxy.vpc_id}[
            attribute_name
        ]

    @property
    def physical_resource_id(self) -> str:
        return str(self.proxy.db_proxy_name)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> CloudFormationDBProxy:
        properties = cloudformation_json["Properties"]
        proxy = rds_backends[account_id][region_name].create_db_proxy(
            db_proxy_name=properties.get("DBProxyName", resource_name),
            engine_family=properties["EngineFamily"],
            auth=properties["Auth"],
            role_arn=properties["RoleArn"],
            vpc_subnet_ids=properties["VpcSubnetIds"],
            vpc_security_group_ids=properties.get("VpcSecurityGroupIds"),
            require_tls=properties.get("RequireTLS"),
            idle_client_timeout=properties.get("IdleClientTimeout"),
            debug_logging=properties.get("DebugLogging"),
            tags=properties.get("Tags"),
        )
        return cls(proxy)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        raise NotImplementedError("the rehearsal creates stacks; it never updates a proxy")

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        rds_backends[account_id][region_name].delete_db_proxy(resource_name)


class CloudFormationDBProxyTargetGroup(CloudFormationModel):
    """``AWS::RDS::DBProxyTargetGroup``: registers the instance or cluster and applies the pool settings."""

    def __init__(self, arn: str) -> None:
        self.arn = arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return "TargetGroupName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::RDS::DBProxyTargetGroup"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "TargetGroupArn"

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return self.arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> CloudFormationDBProxyTargetGroup:
        properties = cloudformation_json["Properties"]
        backend = rds_backends[account_id][region_name]
        proxy_name = properties["DBProxyName"]
        backend.register_db_proxy_targets(
            db_proxy_name=proxy_name,
            target_group_name=properties.get("TargetGroupName", "default"),
            db_cluster_identifiers=properties.get("DBClusterIdentifiers") or [],
            db_instance_identifiers=properties.get("DBInstanceIdentifiers") or [],
        )
        pool = properties.get("ConnectionPoolConfigurationInfo")
        if pool:
            backend.modify_db_proxy_target_group(proxy_name, pool)
        (group,) = backend.describe_db_proxy_target_groups(proxy_name)
        return cls(group.target_group_arn)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        raise NotImplementedError("the rehearsal creates stacks; it never updates a target group")

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        return None


# moto builds its map of resource types from CloudFormationModel's subclasses once and caches it.
parsing.get_model_list.cache_clear()
parsing.get_model_map.cache_clear()
parsing.get_name_type_map.cache_clear()
