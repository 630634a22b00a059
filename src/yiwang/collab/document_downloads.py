"""Staff downloads of a 公文's sealed PDF and archive package, for the pages and API of the documents part (which
decide who may see the document: call these only with a document the caller may see)."""

from __future__ import annotations

from urllib.parse import quote

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from .models.documents import DocumentFile
from .services.document_seal import document_sealed_file


def _attachment(file_row: DocumentFile, content_type: str) -> FileResponse:
    try:
        handle = file_row.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404(_("文件不存在。")) from None
    response = FileResponse(handle, content_type=content_type)
    name = file_row.original_name or "document"
    ascii_name = name.encode("ascii", "ignore").decode() or "document"
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name.replace(chr(34), '')}\"; filename*=UTF-8''{quote(name)}"
    )
    response["Content-Length"] = str(file_row.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def document_pdf_response(document) -> FileResponse:
    """The sealed PDF (DocumentFile kind=sealed) of a 发文; 404 when it is not sealed."""
    sealed = document_sealed_file(document)
    if sealed is None:
        raise Http404(_("该公文尚未用印。"))
    return _attachment(sealed, "application/pdf")


def document_archive_response(file) -> FileResponse:
    """The archive package (DocumentFile kind=archive) as a zip download; 404 for any other file."""
    if file is None or file.kind != DocumentFile.Kind.ARCHIVE:
        raise Http404(_("没有找到归档包。"))
    return _attachment(file, "application/zip")
