"""Background tasks (django-tasks): build a receipt batch outside the operator's request."""

from django_tasks import task


@task()
def build_receipt_batch(batch_id: str) -> str:
    from .batch import receipt_batch_build

    return receipt_batch_build(batch_id=batch_id).status
