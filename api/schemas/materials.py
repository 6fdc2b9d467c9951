"""The materials checklist (资料清单) over the API (issue 13 §4)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import TEXT_PATTERN


class MaterialItemOut(BaseModel):
    id: str
    title: str
    required: bool
    files: int = Field(description="标注为该资料项的佐证材料文件数")
    missing: bool = Field(description="必备且尚无文件")


class IndicatorMaterialsOut(BaseModel):
    indicator: str
    title: str
    units: list[str] = Field(description="方案中该指标的责任单位（牵头在前）")
    required: int
    required_met: int
    items: list[MaterialItemOut]


class MaterialsOut(BaseModel):
    title: str
    illustrative: bool = Field(description="示例清单（非官方）")
    imported: bool = Field(description="办公室导入的本县清单（否则为标准附带的清单）")
    indicators: list[IndicatorMaterialsOut]
    missing_required: int


class MissingItemOut(BaseModel):
    indicator: str
    indicator_title: str
    item_id: str
    title: str
    units: list[str]


class EvidenceItemIn(BaseModel):
    item: str | None = Field(None, max_length=20, pattern=TEXT_PATTERN,
                             description="资料项编号（如 1-1）；空或 null 取消标注")


class EvidenceItemOut(BaseModel):
    evidence_id: int
    item: str | None
