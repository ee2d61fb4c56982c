"""PostgreSQL backend that hands the current tenant to row-level security.

The tenant is set with ``set_config('acorn.tenant_id', id, true)``: local to
the transaction, so a pooled or persistent connection can never carry one
request's tenant into the next. Inside a transaction it is set once, before
the first statement (and again if the tenant changes). A statement run in
autocommit mode with a tenant in context is wrapped in its own short
transaction so it sees the tenant too. With no tenant, nothing is set and
the policies return no tenant rows at all.

Two narrower settings travel the same way, in the same statement:
``acorn.user_id`` (the signed-in user, who may read their own memberships)
and ``acorn.api_key_prefix`` (the key being authenticated); see
acorn/rls.py and acorn/tenancy.py.
"""

from django.db.backends.postgresql import base

from acorn.tenancy import rls_context

TENANT_SETTING = "acorn.tenant_id"
USER_SETTING = "acorn.user_id"
API_KEY_PREFIX_SETTING = "acorn.api_key_prefix"
_SET_CONTEXT_SQL = (
    f"SELECT set_config('{TENANT_SETTING}', %s, true), "
    f"set_config('{USER_SETTING}', %s, true), "
    f"set_config('{API_KEY_PREFIX_SETTING}', %s, true)"
)
_NO_CONTEXT = ("", "", "")


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The (tenant, user, prefix) set in the open transaction, or None.
        self.rls_context_in_transaction = None
        self.execute_wrappers.append(self._rls_execute_wrapper)

    def _rls_forget(self):
        self.rls_context_in_transaction = None

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._rls_forget()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._rls_forget()

    def _savepoint_rollback(self, sid):
        # A rollback to a savepoint also undoes a set_config made after it.
        try:
            return super()._savepoint_rollback(sid)
        finally:
            self._rls_forget()

    def _set_autocommit(self, autocommit):
        self._rls_forget()
        return super()._set_autocommit(autocommit)

    def _close(self):
        self._rls_forget()
        return super()._close()

    def _rls_execute_wrapper(self, execute, sql, params, many, context):
        values = rls_context()
        if values == _NO_CONTEXT:
            if self.rls_context_in_transaction is not None:
                # Left a scope inside one transaction: clear it.
                self._rls_apply(context, _NO_CONTEXT)
                self.rls_context_in_transaction = None
            return execute(sql, params, many, context)
        if self.get_autocommit() and not self.in_atomic_block:
            with self.connection.transaction():
                self._rls_apply(context, values)
                try:
                    return execute(sql, params, many, context)
                finally:
                    self.rls_context_in_transaction = None
        if self.rls_context_in_transaction != values:
            self._rls_apply(context, values)
            self.rls_context_in_transaction = values
        return execute(sql, params, many, context)

    @staticmethod
    def _rls_apply(context, values):
        # Execute wrappers run outside Django's error translation: wrap this
        # statement so a dead connection raises Django's OperationalError
        # (and marks the connection for replacement) like any other query.
        # On the connection, not the query's cursor: a server-side cursor
        # (QuerySet.iterator()) would only DECLARE the statement, so the
        # setting would never be applied and the scope would see no rows.
        with context["connection"].wrap_database_errors:
            context["connection"].connection.execute(_SET_CONTEXT_SQL, list(values))
