"""Background tasks (django-tasks): deliver an outbox message after the commit that recorded it."""

from django_tasks import task


@task()
def deliver_outbox_message(message_id: int) -> str:
    from mileage.services.transactions import outbox_deliver

    message = outbox_deliver(message_id)
    return message.status if message else "not-due"


@task()
def deliver_due_messages() -> int:
    from mileage.services.transactions import outbox_deliver_due

    return outbox_deliver_due()
