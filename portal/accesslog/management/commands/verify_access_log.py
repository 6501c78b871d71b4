"""`manage.py verify_access_log`: checks the access log's hash chain; exit code 1 and the record's id when broken."""

from django.core.management.base import BaseCommand, CommandError

from portal.accesslog.services import access_log_verify


class Command(BaseCommand):
    help = "Verifies the access log's hash chain (접속기록 위변조 검사)."

    def handle(self, *args, **options):
        report = access_log_verify()
        if not report.ok:
            raise CommandError(f"access log broken at record id={report.broken_id} "
                               f"after {report.checked} good records: {report.problem}")
        self.stdout.write(f"access log intact: {report.checked} records")
