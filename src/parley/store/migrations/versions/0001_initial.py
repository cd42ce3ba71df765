"""initial schema: runs, chats, messages, model/tool calls, code executions, human inputs, speaker selections

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('parley_runs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('initiator', sa.String(length=200), nullable=True),
    sa.Column('recipient', sa.String(length=200), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('parley_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parley_runs_session_id'), ['session_id'], unique=False)

    op.create_table('parley_chats',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('parent_id', sa.String(length=32), nullable=True),
    sa.Column('sender', sa.String(length=200), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('max_turns', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('started_at', sa.Float(), nullable=False),
    sa.Column('finished_at', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['parley_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('parley_chats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parley_chats_run_id'), ['run_id'], unique=False)

    op.create_table('parley_code_executions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('chat_id', sa.String(length=32), nullable=False),
    sa.Column('agent', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=40), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('exit_code', sa.Integer(), nullable=False),
    sa.Column('output', sa.Text(), nullable=False),
    sa.Column('executor', sa.String(length=100), nullable=False),
    sa.Column('latency_s', sa.Float(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['parley_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('parley_code_executions', schema=None) as batch_op:
        batch_op.create_index('ix_parley_code_executions_run', ['run_id', 'id'], unique=False)

    op.create_table('parley_human_inputs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('chat_id', sa.String(length=32), nullable=False),
    sa.Column('agent', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['parley_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('parley_human_inputs', schema=None) as batch_op:
        batch_op.create_index('ix_parley_human_inputs_run', ['run_id', 'id'], unique=False)

    op.create_table('parley_messages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('chat_id', sa.String(length=32), nullable=False),
    sa.Column('sender', sa.String(length=200), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('produced_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['parley_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('parley_messages', schema=None) as batch_op:
        batch_op.create_index('ix_parley_messages_run', ['run_id', 'id'], unique=False)

    op.create_table('parley_model_calls',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('chat_id', sa.String(length=32), nullable=False),
    sa.Column('agent', sa.String(length=200), nullable=True),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('prompt_tokens', sa.Integer(), nullable=False),
    sa.Column('completion_tokens', sa.Integer(), nullable=False),
    sa.Column('cost', sa.Float(), nullable=False),
    sa.Column('latency_s', sa.Float(), nullable=False),
    sa.Column('cached', sa.Boolean(), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['parley_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('parley_model_calls', schema=None) as batch_op:
        batch_op.create_index('ix_parley_model_calls_run', ['run_id', 'id'], unique=False)

    op.create_table('parley_speaker_selections',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('chat_id', sa.String(length=32), nullable=False),
    sa.Column('manager', sa.String(length=200), nullable=False),
    sa.Column('speaker', sa.String(length=200), nullable=False),
    sa.Column('method', sa.String(length=40), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['parley_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('parley_speaker_selections', schema=None) as batch_op:
        batch_op.create_index('ix_parley_speaker_selections_run', ['run_id', 'id'], unique=False)

    op.create_table('parley_tool_calls',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('chat_id', sa.String(length=32), nullable=False),
    sa.Column('agent', sa.String(length=200), nullable=False),
    sa.Column('tool', sa.String(length=200), nullable=False),
    sa.Column('tool_call_id', sa.String(length=200), nullable=True),
    sa.Column('arguments', sa.Text(), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('latency_s', sa.Float(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['parley_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('parley_tool_calls', schema=None) as batch_op:
        batch_op.create_index('ix_parley_tool_calls_run', ['run_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('parley_tool_calls', schema=None) as batch_op:
        batch_op.drop_index('ix_parley_tool_calls_run')

    op.drop_table('parley_tool_calls')
    with op.batch_alter_table('parley_speaker_selections', schema=None) as batch_op:
        batch_op.drop_index('ix_parley_speaker_selections_run')

    op.drop_table('parley_speaker_selections')
    with op.batch_alter_table('parley_model_calls', schema=None) as batch_op:
        batch_op.drop_index('ix_parley_model_calls_run')

    op.drop_table('parley_model_calls')
    with op.batch_alter_table('parley_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_parley_messages_run')

    op.drop_table('parley_messages')
    with op.batch_alter_table('parley_human_inputs', schema=None) as batch_op:
        batch_op.drop_index('ix_parley_human_inputs_run')

    op.drop_table('parley_human_inputs')
    with op.batch_alter_table('parley_code_executions', schema=None) as batch_op:
        batch_op.drop_index('ix_parley_code_executions_run')

    op.drop_table('parley_code_executions')
    with op.batch_alter_table('parley_chats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parley_chats_run_id'))

    op.drop_table('parley_chats')
    with op.batch_alter_table('parley_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parley_runs_session_id'))

    op.drop_table('parley_runs')
