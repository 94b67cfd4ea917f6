"""Request models of the file manager (RAGFlow v0.27 `validation_utils`: CreateFolderReq,
DeleteFileReq, MoveFileReq, ListFileReq), strict and refusing unknown keys as RAGFlow's are."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

FileName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]

# API orderby names → File columns.
FILE_ORDER_COLUMNS = {
    "create_time": "created_at",
    "create_date": "created_at",
    "update_time": "updated_at",
    "update_date": "updated_at",
    "name": "name",
    "size": "size",
    "type": "type",
    "id": "id",
}


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class FolderCreateIn(_Base):
    name: FileName
    parent_id: str | None = None
    type: str | None = None


class FilesDeleteIn(_Base):
    ids: Annotated[list[str], Field(min_length=1)]


class FilesMoveIn(_Base):
    src_file_ids: Annotated[list[str], Field(min_length=1)]
    dest_file_id: str | None = None
    new_name: FileName | None = None

    @model_validator(mode="after")
    def _one_operation(self) -> FilesMoveIn:
        if not self.dest_file_id and not self.new_name:
            raise ValueError("At least one of dest_file_id or new_name must be provided")
        if self.new_name and len(self.src_file_ids) > 1:
            raise ValueError("new_name can only be used with a single file")
        return self


class FilesListIn(BaseModel):
    """Query of GET /files (validated with strict=False: values arrive as strings). Unknown
    keys are refused on the new path; the old `/file/list` ignores them, as v0.22 did."""

    model_config = ConfigDict(extra="forbid")

    parent_id: str | None = None
    keywords: str = ""
    page: Annotated[int, Field(ge=1)] = 1
    page_size: Annotated[int, Field(ge=1)] = 15
    orderby: str = "create_time"
    desc: bool = True

    @classmethod
    def lenient(cls, query: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in query.items() if key in cls.model_fields}


class FilesLinkIn(BaseModel):
    """POST /files/link-to-datasets: both lists required (RAGFlow's `validate_request`)."""

    model_config = ConfigDict(extra="ignore", strict=True)

    file_ids: list[str]
    kb_ids: list[str]
