"""the rest of the classic runtime log: agents, oai_wrappers, oai_clients, function_calls, events (tables and
views of the classic names); chat_completions' client_id / wrapper_id widened to hold Python id() values

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

CHAT_COMPLETIONS_COLUMNS = ("id, invocation_id, client_id, wrapper_id, session_id, request, response, is_cached, cost, "
                            "start_time, end_time, source_name")
# view name -> (table, the classic columns in classic's order)
VIEWS = {
    'agents': ('parley_agents', 'id, agent_id, wrapper_id, session_id, name, class_name AS class, init_args, timestamp'),
    'oai_wrappers': ('parley_oai_wrappers', 'id, wrapper_id, session_id, init_args, timestamp'),
    'oai_clients': ('parley_oai_clients', 'id, client_id, wrapper_id, session_id, class_name AS class, init_args, timestamp'),
    'function_calls': ('parley_function_calls', 'source_id, source_name, function_name, args, returns, timestamp, session_id'),
    'events': ('parley_events', ('event_name, source_id, source_name, agent_module, agent_class_name, id, json_state, '
                                 'timestamp, session_id')),
}


def _widen_ids(to_big: bool) -> None:
    # SQLite rebuilds the table to change a column; the view on it must not be in the way.
    op.execute("DROP VIEW chat_completions")
    old, new = (sa.Integer(), sa.BigInteger()) if to_big else (sa.BigInteger(), sa.Integer())
    with op.batch_alter_table('parley_chat_completions', schema=None) as batch_op:
        batch_op.alter_column('client_id', existing_type=old, type_=new, existing_nullable=True)
        batch_op.alter_column('wrapper_id', existing_type=old, type_=new, existing_nullable=True)
    op.execute(f"CREATE VIEW chat_completions AS SELECT {CHAT_COMPLETIONS_COLUMNS} FROM parley_chat_completions")


def _indexed(table: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{table}_session_id'), ['session_id'], unique=False)


def upgrade() -> None:
    _widen_ids(to_big=True)
    op.create_table('parley_agents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('agent_id', sa.BigInteger(), nullable=True),
    sa.Column('wrapper_id', sa.BigInteger(), nullable=True),
    sa.Column('session_id', sa.String(length=36), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('class_name', sa.Text(), nullable=True),
    sa.Column('init_args', sa.Text(), nullable=True),
    sa.Column('timestamp', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agent_id', 'session_id', name='uq_parley_agents_agent_session')
    )
    op.create_table('parley_oai_wrappers',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('wrapper_id', sa.BigInteger(), nullable=True),
    sa.Column('session_id', sa.String(length=36), nullable=True),
    sa.Column('init_args', sa.Text(), nullable=True),
    sa.Column('timestamp', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('wrapper_id', 'session_id', name='uq_parley_oai_wrappers_wrapper_session')
    )
    op.create_table('parley_oai_clients',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('client_id', sa.BigInteger(), nullable=True),
    sa.Column('wrapper_id', sa.BigInteger(), nullable=True),
    sa.Column('session_id', sa.String(length=36), nullable=True),
    sa.Column('class_name', sa.Text(), nullable=True),
    sa.Column('init_args', sa.Text(), nullable=True),
    sa.Column('timestamp', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id', 'session_id', name='uq_parley_oai_clients_client_session')
    )
    op.create_table('parley_function_calls',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=True),
    sa.Column('source_id', sa.BigInteger(), nullable=True),
    sa.Column('source_name', sa.Text(), nullable=True),
    sa.Column('function_name', sa.Text(), nullable=True),
    sa.Column('args', sa.Text(), nullable=True),
    sa.Column('returns', sa.Text(), nullable=True),
    sa.Column('timestamp', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('parley_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=True),
    sa.Column('event_name', sa.Text(), nullable=True),
    sa.Column('source_id', sa.BigInteger(), nullable=True),
    sa.Column('source_name', sa.Text(), nullable=True),
    sa.Column('agent_module', sa.Text(), nullable=True),
    sa.Column('agent_class_name', sa.Text(), nullable=True),
    sa.Column('json_state', sa.Text(), nullable=True),
    sa.Column('timestamp', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    for view, (table, columns) in VIEWS.items():
        _indexed(table)
        op.execute(f"CREATE VIEW {view} AS SELECT {columns} FROM {table}")


def downgrade() -> None:
    for view, (table, _columns) in VIEWS.items():
        op.execute(f"DROP VIEW {view}")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_session_id'))
        op.drop_table(table)
    _widen_ids(to_big=False)
