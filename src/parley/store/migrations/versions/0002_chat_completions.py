"""the classic runtime log's chat_completions: a table of model calls in full, and a view of the classic name

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Classic AutoGen's columns, in its order, then source_name (added by its later versions).
CLASSIC_COLUMNS = ("id, invocation_id, client_id, wrapper_id, session_id, request, response, is_cached, cost, "
                   "start_time, end_time, source_name")


def upgrade() -> None:
    op.create_table('parley_chat_completions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('invocation_id', sa.String(length=36), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=True),
    sa.Column('wrapper_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.String(length=36), nullable=True),
    sa.Column('source_name', sa.String(length=200), nullable=True),
    sa.Column('request', sa.Text(), nullable=False),
    sa.Column('response', sa.Text(), nullable=False),
    sa.Column('is_cached', sa.Integer(), nullable=False),
    sa.Column('cost', sa.Float(), nullable=False),
    sa.Column('start_time', sa.String(length=32), nullable=False),
    sa.Column('end_time', sa.String(length=32), nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=True),
    sa.Column('chat_id', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('parley_chat_completions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parley_chat_completions_session_id'), ['session_id'], unique=False)
    op.execute(f"CREATE VIEW chat_completions AS SELECT {CLASSIC_COLUMNS} FROM parley_chat_completions")


def downgrade() -> None:
    op.execute("DROP VIEW chat_completions")
    with op.batch_alter_table('parley_chat_completions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parley_chat_completions_session_id'))

    op.drop_table('parley_chat_completions')
