"""Django's flush for the test database: between transactional tests the rows go by `tests.support.db_state.empty`
(the same result, a tenth of the time); anything else, or when that cannot be sure, Django's own flush."""

from django.core.management.commands import flush

from tests.support import db_state


class Command(flush.Command):
    def handle(self, **options):
        database = options["database"]
        between_tests = not (options["interactive"] or options["reset_sequences"] or options["allow_cascade"]
                             or options["inhibit_post_migrate"])
        if between_tests and db_state.empty(database):
            return
        super().handle(**options)
        if between_tests:
            db_state.after_full_flush(database)
