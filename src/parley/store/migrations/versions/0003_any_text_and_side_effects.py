"""names of any length (TEXT), and the side-effects journal (code executions and tool calls with their results)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Columns that hold names a program chooses (agents, tools, models, languages): any length now.
WIDENED = {
    'parley_runs': {'initiator': 200, 'recipient': 200},
    'parley_chats': {'sender': 200, 'recipient': 200},
    'parley_messages': {'sender': 200, 'recipient': 200, 'produced_by': 100},
    'parley_model_calls': {'agent': 200, 'model': 200},
    'parley_tool_calls': {'agent': 200, 'tool': 200, 'tool_call_id': 200},
    'parley_code_executions': {'agent': 200, 'language': 40, 'executor': 100},
    'parley_human_inputs': {'agent': 200},
    'parley_speaker_selections': {'manager': 200, 'speaker': 200, 'method': 40},
    'parley_chat_completions': {'source_name': 200},
}
NOT_NULL = {('parley_chats', 'sender'), ('parley_chats', 'recipient'), ('parley_messages', 'sender'),
            ('parley_messages', 'recipient'), ('parley_model_calls', 'model'), ('parley_tool_calls', 'agent'),
            ('parley_tool_calls', 'tool'), ('parley_code_executions', 'agent'), ('parley_code_executions', 'language'),
            ('parley_code_executions', 'executor'), ('parley_human_inputs', 'agent'), ('parley_speaker_selections', 'manager'),
            ('parley_speaker_selections', 'speaker'), ('parley_speaker_selections', 'method')}
CLASSIC_COLUMNS = ("id, invocation_id, client_id, wrapper_id, session_id, request, response, is_cached, cost, "
                   "start_time, end_time, source_name")


def _alter(to_text: bool) -> None:
    # SQLite rebuilds a table to change a column; the view on chat_completions must not be in the way.
    op.execute("DROP VIEW chat_completions")
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, length in columns.items():
                old, new = (sa.String(length=length), sa.Text()) if to_text else (sa.Text(), sa.String(length=length))
                batch_op.alter_column(column, existing_type=old, type_=new, existing_nullable=(table, column) not in NOT_NULL)
    op.execute(f"CREATE VIEW chat_completions AS SELECT {CLASSIC_COLUMNS} FROM parley_chat_completions")


def upgrade() -> None:
    _alter(to_text=True)
    op.create_table('parley_side_effects',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('chat_id', sa.String(length=32), nullable=False),
    sa.Column('agent', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['parley_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('parley_side_effects', schema=None) as batch_op:
        batch_op.create_index('ix_parley_side_effects_run', ['run_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('parley_side_effects', schema=None) as batch_op:
        batch_op.drop_index('ix_parley_side_effects_run')
    op.drop_table('parley_side_effects')
    _alter(to_text=False)
