"""django-bootstrap5's field rendering for the shop and the console: a refused form marks what needs fixing
(is-invalid) and nothing else — no green mark on the fields it got right, nor on a password field it blanked."""

from django_bootstrap5.renderers import FieldRenderer


class InvalidOnlyFieldRenderer(FieldRenderer):
    def get_server_side_validation_classes(self):
        return "is-invalid" if self.field_errors else ""
